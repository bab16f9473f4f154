import { describe, expect, test } from '@jest/globals';
import { formatRunSummary } from './run-summary';

describe('run summary', () => {
  test('before/after table, PEFT-style parameter line, throughput and memory', () => {
    const lines = formatRunSummary(
      { 'retrieval.i2t_R@1': 10, 'retrieval.i2t_mAP': 1, eval_loss: 3 },
      { 'retrieval.i2t_R@1': 42.5, 'retrieval.i2t_mAP': 2, eval_loss: 1 },
      {
        trainableParams: 1234,
        totalParams: 5678,
        steps: 10,
        samples: 320,
        seconds: 4,
        peakRssBytes: 300 * 2 ** 20,
        peakTensorBytes: 2 ** 20,
        stepPeak: { bytes: 5 * 2 ** 20, step: 2 },
        adapterBytes: 2560,
      },
    );
    expect(lines).toEqual([
      'metric                before      after',
      'retrieval.i2t_R@1      10.00      42.50',
      'trainable params: 1,234 || all params: 5,678 || trainable%: 21.7330',
      '10 steps in 4.0 s of training: 2.50 steps/s, 80.0 samples/s',
      'peak memory: RSS 300.0 MiB, tfjs tensors between steps 1.0 MiB, within a step 5.0 MiB (step 2)',
      'adapter file: adapter_model.safetensors 2.5 KiB',
    ]);
  });

  test("each metric's settings follow the table (the caption tokenizer), only for metrics in the table", () => {
    const lines = formatRunSummary(
      undefined,
      { 'caption.cider': 0.5 },
      {
        trainableParams: 1,
        totalParams: 1,
        steps: 0,
        samples: 0,
        seconds: 0,
        peakRssBytes: 0,
        peakTensorBytes: 0,
        metricSettings: { caption: { tokenizer: 'jieba' }, vqa: { answers: 'official' } },
      },
    );
    expect(lines.slice(0, 3)).toEqual([
      'metric            before      after',
      'caption.cider          -       0.50',
      'caption scored with tokenizer jieba',
    ]);
    expect(lines.join('\n')).not.toContain('vqa');
  });

  test('without a before evaluation the column shows a dash', () => {
    const [, row] = formatRunSummary(
      undefined,
      { acc: 1 },
      { trainableParams: 1, totalParams: 1, steps: 1, samples: 1, seconds: 1, peakRssBytes: 0, peakTensorBytes: 0 },
    );
    expect(row).toBe(`${'acc'.padEnd(6)}  ${'-'.padStart(9)}  ${'1.00'.padStart(9)}`);
  });

  test('a run without steps (resumed at its last step) prints no rates, not NaN', () => {
    const lines = formatRunSummary(
      undefined,
      {},
      { trainableParams: 1, totalParams: 1, steps: 0, samples: 0, seconds: 0, peakRssBytes: 0, peakTensorBytes: 0 },
    );
    expect(lines.join('\n')).not.toContain('NaN');
    expect(lines).toContain('no training steps in this run');
  });
});
