import { describe, expect, test } from '@jest/globals';
import type { Metric } from '../contracts/metric';
import type { MetricInput, TextInput, VqaInput } from '../contracts/metric-input';
import { MmftError } from '../errors';
import { countingMetric } from '../testing/fake-plugins';
import { checkConsumers, feedMetrics, fedMetric, MetricSink, type FedMetric } from './feed';

/** Records every batch it is given. */
function recorder(): Metric<MetricInput> & { batches: MetricInput[][] } {
  const batches: MetricInput[][] = [];
  return {
    batches,
    reset: () => void (batches.length = 0),
    update: (batch) => void batches.push([...(Array.isArray(batch) ? batch : [batch as MetricInput])]),
    compute: () => ({ scores: { batches: batches.length, items: batches.flat().length } }),
  };
}

function errorOf(fn: () => unknown): MmftError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MmftError) return error;
    throw error;
  }
  throw new Error('expected an MmftError');
}

const text = (id: string): TextInput => ({ kind: 'text', id, prediction: id, references: [id] });
const vqa = (id: string): VqaInput => ({ kind: 'vqa', id, prediction: id, answers: [id] });
const both = { name: 'test producer', emits: ['text', 'vqa'] as const };

describe('MetricSink', () => {
  test('routes each kind to its metrics, in order, one batch per update', () => {
    const t = recorder();
    const v = recorder();
    const sink = new MetricSink(
      [
        { id: 't', consumes: 'text', metric: t },
        { id: 'v', consumes: 'vqa', metric: v },
      ],
      both,
    );
    sink.update([text('1'), vqa('a'), text('2')]);
    sink.update(vqa('b'));
    sink.update([text('3')]);
    expect(t.batches).toEqual([[text('1'), text('2')], [text('3')]]);
    expect(v.batches).toEqual([[vqa('a')], [vqa('b')]]);
    expect(sink.scores()).toEqual({ 't.batches': 2, 't.items': 3, 'v.batches': 2, 'v.items': 2 });
    sink.reset();
    expect(sink.reports()).toEqual([
      { id: 't', report: { scores: { batches: 0, items: 0 } } },
      { id: 'v', report: { scores: { batches: 0, items: 0 } } },
    ]);
  });

  test('a metric consuming a kind the producer never emits is refused up front, naming both', () => {
    const metrics: FedMetric[] = [{ id: 'vqa', consumes: 'vqa', metric: recorder() }];
    const error = errorOf(() => new MetricSink(metrics, { name: 'objective "contrastive"', emits: ['retrieval', 'text'] }));
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toBe('metric "vqa" consumes vqa inputs, but objective "contrastive" emits only: retrieval, text');
    const offered = [
      { id: 'caption', consumes: 'text' as const },
      { id: 'vqa', consumes: 'vqa' as const },
      { id: 'exact-match', consumes: 'text' as const },
    ];
    const hinted = errorOf(() => checkConsumers(metrics, { name: '`mmft eval caption`', emits: ['text'] }, offered));
    expect(hinted.hint).toBe('metrics that consume what `mmft eval caption` emits: caption (text), exact-match (text)');
  });

  test('a metric listed twice, an unknown kind, and an undeclared emission are refused', () => {
    const twice = errorOf(() =>
      checkConsumers(
        [
          { id: 'caption', consumes: 'text' },
          { id: 'caption', consumes: 'text' },
        ],
        both,
      ),
    );
    expect(twice.message).toMatch(/metric "caption" is listed twice/);
    const unknown = errorOf(() => checkConsumers([{ id: 'odd', consumes: 'audio' as never }], both));
    expect(unknown.message).toBe('metric "odd" consumes "audio", which is no metric input kind');
    const untagged = errorOf(() => checkConsumers([{ id: 'old', consumes: undefined as never }], both));
    expect(untagged.message).toBe('metric "old" does not say which input kind it consumes');
    const sink = new MetricSink([{ id: 't', consumes: 'text', metric: recorder() }], { name: 'a text producer', emits: ['text'] });
    const lying = errorOf(() => sink.update([text('1'), vqa('a')]));
    expect(lying.message).toBe('a text producer emitted a vqa input, but declares it emits only: text');
  });
});

describe('feedMetrics', () => {
  test('resets, feeds a sync or async stream of inputs and batches, and reports in order', async () => {
    const counted = fedMetric(countingMetric, { scale: 10 });
    counted.metric.update(text('stale'));
    async function* stream(): AsyncIterable<MetricInput | readonly MetricInput[]> {
      yield text('1');
      yield [text('2'), vqa('a')];
    }
    expect(await feedMetrics([counted], stream(), both)).toEqual([{ id: 'count', report: { scores: { count: 20 } } }]);
    expect(await feedMetrics([counted], [[text('1')], text('2'), text('3')], both)).toEqual([
      { id: 'count', report: { scores: { count: 30 } } },
    ]);
  });
});
