// Slices checked against direct computations: field values from the typed example, from the JSONL
// record behind it (dotted paths, lists) and from a shapes scene (checked against the answers of
// the scene's own questions); per-slice VQA accuracy equal to the exact-match share worked out by
// hand and to a fresh metric fed only that slice's records; retrieval sliced to the slice's own
// images and texts (recall worked out by hand); and runRobustness with a stand-in objective whose
// answers are functions of the image and the question, so every gap is known.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  feedMetrics,
  fedMetric,
  MetricSink,
  parseConfig,
  type EvalPart,
  type Example,
  type MetricInput,
  type Objective,
  type VqaInput,
} from '@mmft/core';
import { ShapesDataset, shapesConfigSchema } from '@mmft/data-shapes';
import { captionMetric } from '@mmft/metric-caption';
import { retrievalMetric } from '@mmft/metric-retrieval';
import { vqaMetric } from '@mmft/metric-vqa';
import { robustnessHtml, robustnessLines } from './robustness-report';
import { runRobustness } from './robustness';
import { groupBy, inputsOf, MISSING, scoreSlices, shapesDerivedFields, sliceValues, SourceRecords } from './slices';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-slices-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const vqa = () => fedMetric(vqaMetric, parseConfig(vqaMetric, {}), 'vqa');
const image = { kind: 'file', path: '/img.png' } as const;
const answer = (id: string, prediction: string, truth: string): VqaInput => ({
  kind: 'vqa',
  id,
  prediction,
  answers: Array(10).fill(truth) as string[],
});

describe('slice values', () => {
  const file = path.join(tmp, 'data.jsonl');
  fs.writeFileSync(
    file,
    [
      JSON.stringify({ id: 'a', meta: { domain: 'news', tags: ['x', 'y', 'x'] } }),
      '',
      JSON.stringify({ id: 'b', meta: { domain: 'chat', tags: [] }, score: 3 }),
    ].join('\n'),
  );
  const a: Example = {
    task: 'vqa',
    id: 'a',
    image,
    lang: 'en',
    question: 'q',
    answer: '1',
    answerType: 'number',
    source: { file, line: 1 },
  };
  const b: Example = { task: 'vqa', id: 'b', image, lang: 'zh', question: 'q', answer: '1', source: { file, line: 3 } };
  const c: Example = { task: 'caption', id: 'c', image, captions: ['x'] };

  test('typed fields (snake_case aliases), dotted record paths, lists, numbers and missing values', () => {
    const records = new SourceRecords();
    expect(sliceValues(a, 'lang', records)).toEqual(['en']);
    expect(sliceValues(a, 'answer_type', records)).toEqual(['number']);
    expect(sliceValues(b, 'answer_type', records)).toEqual([MISSING]);
    expect(sliceValues(a, 'meta.domain', records)).toEqual(['news']);
    expect(sliceValues(a, 'meta.tags', records)).toEqual(['x', 'y']);
    expect(sliceValues(b, 'meta.tags', records)).toEqual([MISSING]);
    expect(sliceValues(b, 'score', records)).toEqual(['3']);
    expect(sliceValues(c, 'meta.domain', records)).toEqual([MISSING]);
    expect(sliceValues(c, 'colour', records, () => ({ colour: 'red' }))).toEqual(['red']);
  });

  test('groups: labels sorted with missing last, ids in example order, list members in each of their slices', () => {
    const groups = groupBy([a, b, c], 'meta.tags', new SourceRecords());
    expect([...groups]).toEqual([
      ['x', ['a']],
      ['y', ['a']],
      [MISSING, ['b', 'c']],
    ]);
  });

  test('shapes scenes: the colours and object count derived for an example hold the answers of its own questions', async () => {
    const settings = { task: 'vqa', n: 6, seed: 5, questionsPerImage: 4, lang: 'en' };
    const derived = shapesDerivedFields(settings);
    let checked = 0;
    for await (const e of new ShapesDataset(shapesConfigSchema.parse(settings)).iterate()) {
      const fields = derived(e)!;
      expect(fields.domain).toBe('A');
      const q = e as Extract<Example, { task: 'vqa' }>;
      if (/^What colou?r is/.test(q.question)) {
        expect(fields.colors).toContain(q.answer);
        checked++;
      }
      if (q.question === 'How many objects are there?') {
        expect(String(fields.objects)).toBe(q.answer);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(derived({ task: 'caption', id: 'other', image, captions: [] })).toBeUndefined();
  });
});

describe('per-slice scores', () => {
  test('VQA accuracy per slice = the exact-match share of its records, and = a metric fed only them', async () => {
    const inputs: MetricInput[] = [
      answer('e1', 'red', 'red'),
      answer('e2', 'blue', 'red'),
      answer('z1', '2', '2'),
      answer('z2', '3', '3'),
      answer('z3', 'no', 'yes'),
    ];
    const groups = new Map([
      ['en', ['e1', 'e2']],
      ['zh', ['z1', 'z2', 'z3']],
    ]);
    const sink = new MetricSink([vqa()], { name: 'test', emits: ['vqa'] });
    const slices = scoreSlices(sink, inputs, groups);
    expect(slices.map((s) => [s.value, s.n, s.small])).toEqual([
      ['en', 2, true],
      ['zh', 3, true],
    ]);
    expect(slices[0]!.scores['vqa.accuracy']).toBeCloseTo(50, 10);
    expect(slices[1]!.scores['vqa.accuracy']).toBeCloseTo(66.67, 2);
    for (const s of slices) {
      const own = inputs.filter((i) => i.kind === 'vqa' && groups.get(s.value)!.includes(i.id));
      const [report] = await feedMetrics([vqa()], own, { name: 'direct', emits: ['vqa'] });
      expect(s.scores['vqa.accuracy']).toBe(report!.report.scores.accuracy);
    }
  });

  test('a mixed eval set: a slice without inputs of a metric kind has no score for that metric (and does not throw)', () => {
    const caption = fedMetric(captionMetric, parseConfig(captionMetric, {}), 'caption');
    const text: MetricInput = { kind: 'text', id: 'c1', prediction: 'a red star', references: ['a red star'] };
    const inputs: MetricInput[] = [answer('q1', 'red', 'red'), answer('q2', '2', '3'), text];
    const sink = new MetricSink([vqa(), caption], { name: 'test', emits: ['vqa', 'text'] });
    const [color, count, missing] = scoreSlices(
      sink,
      inputs,
      new Map([
        ['color', ['q1']],
        ['count', ['q2']],
        [MISSING, ['c1']],
      ]),
    );
    expect(color!.scores).toEqual({ 'vqa.accuracy': 100 });
    expect(count!.scores).toEqual({ 'vqa.accuracy': 0 });
    expect(Object.keys(missing!.scores).every((k) => k.startsWith('caption.'))).toBe(true);
    expect(missing!.scores['caption.bleu1']).toBeCloseTo(1, 6);
  });

  test('retrieval: a slice ranks only its own images and texts', async () => {
    // Text of a points nearer to c than to a: a miss overall, a hit within the slice {a, b}.
    const input: MetricInput = {
      kind: 'retrieval',
      images: [
        { id: 'a', embedding: [1, 0] },
        { id: 'b', embedding: [0, 1] },
        { id: 'c', embedding: [0.8, 0.6] },
      ],
      texts: [
        { imageId: 'a', embedding: [0.8, 0.6] },
        { imageId: 'b', embedding: [0, 1] },
        { imageId: 'c', embedding: [0.8, 0.6] },
      ],
    };
    const metric = fedMetric(retrievalMetric, parseConfig(retrievalMetric, {}), 'retrieval');
    const sink = new MetricSink([metric], { name: 'test', emits: ['retrieval'] });
    const [x, y] = scoreSlices(
      sink,
      [input],
      new Map([
        ['x', ['a', 'b']],
        ['y', ['c']],
      ]),
    );
    const overall = scoreSlices(sink, [input], new Map([['all', ['a', 'b', 'c']]]))[0]!;
    const r1 = (s: Record<string, number>) => s['retrieval.t2i_R@1']!;
    expect(r1(overall.scores) / r1(x!.scores)).toBeCloseTo(2 / 3, 10);
    expect(r1(y!.scores)).toBe(r1(x!.scores));
    expect(inputsOf([input], new Set(['c']))).toEqual([{ ...input, images: [input.images![2]], texts: [input.texts![2]] }]);
  });
});

describe('runRobustness', () => {
  // Each image file's "content" is the number in its name; blur turns it into nothing readable, so
  // the stand-in answers "?" for a perturbed image (its bytes, not a file) and the true colour otherwise.
  const ex = (i: number, lang: string, question: string, truth: string): Example => ({
    task: 'vqa',
    id: `q${i}`,
    lang,
    image: { kind: 'file', path: path.join(tmp, `${i % 2}.svg`) },
    question,
    answer: truth,
    answers: Array(10).fill(truth) as string[],
  });
  const examples = [
    ex(0, 'en', 'What color is the circle?', 'red'),
    ex(1, 'en', 'Why is it here?', 'blue'),
    ex(2, 'zh', '图中有几个圆形？', '2'),
    ex(3, 'zh', '圆形是什么形状？', 'circle'),
  ];
  // The answer: right for a clean file image; "?" for perturbed bytes; wrong for a reworded English question.
  const answerOf = (e: Extract<Example, { task: 'vqa' }>) =>
    e.image.kind !== 'file' ? '?' : e.question.startsWith('Which colour') ? 'green' : e.answer;
  const objective: Objective = {
    emits: ['vqa', 'text'],
    trainsModel: true,
    canEvaluate: true,
    collate: async () => {
      throw new Error('not used');
    },
    loss: () => {
      throw new Error('not used');
    },
    parameters: () => [],
    async *evaluate(data, options): AsyncIterable<EvalPart> {
      expect(options.kinds).toEqual(['vqa']);
      for await (const e of data!.iterate()) {
        const q = e as Extract<Example, { task: 'vqa' }>;
        yield { lossSum: q.image.kind === 'file' ? 1 : 3, count: 1, inputs: [answer(q.id, answerOf(q), q.answer)] };
      }
    },
    dispose: () => undefined,
  };

  test('clean, blur and paraphrase: overall and per-language scores and gaps by hand; unchanged records counted', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="rgb(128,128,128)"/></svg>';
    for (const i of [0, 1]) fs.writeFileSync(path.join(tmp, `${i}.svg`), svg);
    const result = await runRobustness({
      objective,
      metrics: [vqa()],
      examples,
      batchSize: 2,
      sliceBy: ['lang'],
      perturbations: [{ kind: 'blur', sigma: 1 }, { kind: 'paraphrase' }],
      seed: 0,
      source: 'test',
    });
    const acc = (s: Record<string, number> | undefined) => s?.['vqa.accuracy'];
    expect(acc(result.clean.scores)).toBe(100);
    expect(result.clean.loss).toBe(1);
    expect(result.clean.slices.lang!.map((s) => [s.value, s.n, acc(s.scores)])).toEqual([
      ['en', 2, 100],
      ['zh', 2, 100],
    ]);
    const [blur, para] = result.perturbations;
    expect(blur!.name).toBe('blur:1');
    expect(acc(blur!.scores)).toBe(0);
    expect(acc(blur!.gap)).toBe(-100);
    expect(blur!.loss).toBe(3);
    expect(blur!.unchanged).toBe(0);
    expect(blur!.predictions).toEqual({ q0: '?', q1: '?', q2: '?', q3: '?' });
    expect(result.clean.predictions).toEqual({ q0: 'red', q1: 'blue', q2: '2', q3: 'circle' });
    // Paraphrase rewords q0 (English colour question → wrong), q2 and q3 (Chinese, still right); q1 has no rule.
    expect(para!.unchanged).toBe(1);
    expect(acc(para!.scores)).toBe(75);
    expect(acc(para!.gap)).toBe(-25);
    expect(para!.slices.lang!.map((s) => [s.value, acc(s.scores), acc(s.gap)])).toEqual([
      ['en', 50, -50],
      ['zh', 100, 0],
    ]);
    expect(para!.changedOnly!.n).toBe(3);
    expect(acc(para!.changedOnly!.clean)).toBe(100);
    expect(acc(para!.changedOnly!.scores)).toBeCloseTo(66.67, 2);

    const lines = robustnessLines(result);
    expect(lines[0]).toMatch(/^lang \(clean\)\s+overall n=4\s+en n=2\*\s+zh n=2\*$/);
    expect(lines).toContainEqual(expect.stringMatching(/^vqa\.accuracy\s+100\.0000\s+100\.0000\s+100\.0000$/));
    expect(lines).toContainEqual(expect.stringMatching(/^vqa\.accuracy\s+100\.0000\s+0\.0000\s+-100\.0000\s+75\.0000\s+-25\.0000$/));
    expect(lines).toContain('paraphrase: 1 of 4 examples unchanged (no paraphrase rule applies)');
    expect(lines.some((l) => l.startsWith('* fewer than 10 examples'))).toBe(true);
    const html = robustnessHtml('t', result);
    expect(html).toMatch(/<svg[^>]*aria-label="gap of vqa.accuracy to clean under each perturbation"/);
    expect(html).toMatch(/gap by lang under paraphrase/);
  });

  test('refuses duplicate ids and a recipe without metrics', async () => {
    const base = { objective, batchSize: 2, sliceBy: [], perturbations: [], seed: 0, source: 'data.eval' };
    await expect(runRobustness({ ...base, metrics: [vqa()], examples: [examples[0]!, examples[0]!] })).rejects.toThrow(/id "q0" twice/);
    await expect(runRobustness({ ...base, metrics: [], examples })).rejects.toThrow(/lists no metrics/);
  });
});
