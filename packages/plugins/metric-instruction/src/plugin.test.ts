import { describe, expect, test } from '@jest/globals';
import { describeMetric } from '@mmft/core/testing';
import type { InstructionInput } from '@mmft/core';
import { instructionMetric, rulesFor } from './plugin';

describeMetric(instructionMetric, {
  config: {},
  updates: [
    { kind: 'instruction', id: '1', prediction: 'A red circle.', reference: 'the red circle', instruction: 'What is shown?' },
    { kind: 'instruction', id: '2', prediction: 'two squares', reference: 'a blue square', instruction: 'Describe it.', lang: 'en' },
    { kind: 'instruction', id: '3', prediction: '红色的圆', reference: '一个红色的圆形', instruction: '图中有什么？', lang: 'zh' },
  ],
});

const input = (id: string, prediction: string, reference: string, lang?: string): InstructionInput => ({
  kind: 'instruction',
  id,
  prediction,
  reference,
  instruction: 'q',
  lang,
});

describe('instruction metric', () => {
  test('means over inputs in percent, each by its language rules, with a breakdown by rules', () => {
    const metric = instructionMetric.create(instructionMetric.configSchema.parse({}));
    metric.update([
      input('a', 'The red circle!', 'red circle'), // en: EM 1, F1 1
      input('b', 'a red circle', 'the red square'), // en: EM 0, F1 1/2
      input('c', '红色的圆', '一个红色的圆形'), // zh by CJK reference: EM 0, F1 8/11
    ]);
    const report = metric.compute();
    expect(report.scores.exact_match).toBeCloseTo(100 / 3, 12);
    expect(report.scores.f1).toBeCloseTo((100 * (1 + 0.5 + 8 / 11)) / 3, 12);
    expect(report.perItem!.b).toEqual({ exact_match: 0, f1: 50 });
    expect(report.groups!.rules!['squad-v1.1']).toEqual({ exact_match: 50, f1: 75, count: 2 });
    expect(report.groups!.rules!.cmrc2018!.f1).toBeCloseTo(800 / 11, 12);
    expect(report.groups!.rules!.cmrc2018!.count).toBe(1);
  });

  test('an empty prediction scores 0; an empty reference matches only an empty prediction, with F1 0 (evaluate-v1.1.py)', () => {
    const metric = instructionMetric.create(instructionMetric.configSchema.parse({}));
    metric.update([input('1', '', 'two circles'), input('2', '', ''), input('3', 'x', '')]);
    expect(metric.compute().perItem).toEqual({
      '1': { exact_match: 0, f1: 0 },
      '2': { exact_match: 100, f1: 0 },
      '3': { exact_match: 0, f1: 0 },
    });
  });

  test('no inputs: zeros; settings name the rules', () => {
    const metric = instructionMetric.create(instructionMetric.configSchema.parse({}));
    expect(metric.compute().scores).toEqual({ exact_match: 0, f1: 0 });
    expect(metric.settings).toEqual({ normalization: 'squad-v1.1 (en), cmrc2018 (zh)', lang: 'auto' });
  });

  test('the language of an input wins over the config; auto looks for CJK ideographs in the reference', () => {
    expect(rulesFor({ lang: 'zh-CN', reference: 'two' }, 'en')).toBe('zh');
    expect(rulesFor({ lang: 'en', reference: '两个' }, 'auto')).toBe('en');
    expect(rulesFor({ lang: 'zhx', reference: '两个' }, 'auto')).toBe('en');
    expect(rulesFor({ reference: '两个 circles' }, 'auto')).toBe('zh');
    expect(rulesFor({ reference: 'two circles' }, 'auto')).toBe('en');
    expect(rulesFor({ reference: 'two circles' }, 'zh')).toBe('zh');
    // Chinese scored by English rules is one whitespace token: all or nothing.
    const en = instructionMetric.create(instructionMetric.configSchema.parse({ lang: 'en' }));
    en.update(input('x', '红色的圆', '一个红色的圆形'));
    expect(en.compute().scores.f1).toBe(0);
  });

  test('a misspelt config key is refused', () => {
    expect(instructionMetric.configSchema.safeParse({ case_sensitive: true }).success).toBe(false);
    expect(instructionMetric.configSchema.safeParse({ lang: 'fr' }).success).toBe(false);
  });
});
