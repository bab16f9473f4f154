import { describe, expect, test } from '@jest/globals';
import type { Example } from '@mmft/core';
import { corpusUnits, shapesConfigSchema, shapesDataset, splitOfText, unigramBaseline, wordTokens } from './index';

const config = (extra: Record<string, unknown>) => shapesConfigSchema.parse({ task: 'text', n: 60, lang: 'both', maxObjects: 3, ...extra });
async function collect(raw: Record<string, unknown>): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of (await shapesDataset.open(config(raw) as never, { baseDir: '.' })).iterate()) out.push(example);
  return out;
}
const textsOf = (examples: Example[]) => examples.map((e) => (e.task === 'text' ? e.text : ''));

describe('shapes text corpus', () => {
  test('deterministic in seed: the same config gives the same texts, another seed other texts', async () => {
    const first = await collect({});
    expect(await collect({})).toEqual(first);
    expect(textsOf(await collect({ seed: 1 }))).not.toEqual(textsOf(first));
    expect(first.every((e) => e.task === 'text' && e.image === undefined && e.text.length > 0)).toBe(true);
  });

  test('English and Chinese, captions, BLIP-2 style questions with answers and USER/ASSISTANT dialogues', async () => {
    const examples = await collect({});
    const en = examples.filter((e) => e.lang === 'en');
    const zh = examples.filter((e) => e.lang === 'zh');
    expect(en.length).toBeGreaterThan(0);
    expect(zh.length).toBeGreaterThan(0);
    expect(textsOf(zh).every((t) => /\p{Script=Han}/u.test(t))).toBe(true);
    expect(textsOf(en).every((t) => !/\p{Script=Han}/u.test(t))).toBe(true);
    const kinds = new Set(examples.map((e) => e.id.split('-').at(-1)));
    expect(kinds).toEqual(new Set(['caption', 'qa', 'dialogue']));
    expect(textsOf(en).some((t) => /^From left to right: .+ Question: .+\? Answer: \S+$/.test(t))).toBe(true);
    expect(textsOf(zh).some((t) => /^从左到右依次是：.+ 问题：.+？ 答案：\S+$/.test(t))).toBe(true);
    expect(textsOf(en).some((t) => /^USER: .+\n.+ ASSISTANT: .+\nUSER: .+ ASSISTANT: .+$/.test(t))).toBe(true);
    expect(textsOf(zh).some((t) => /^用户：.+\n.+ 助手：.+\n用户：.+ 助手：.+$/.test(t))).toBe(true);
  });

  test('the eval split shares no text with the train split, whatever the seeds; every text sits where its hash says', () => {
    const train = corpusUnits(config({ n: 300 }));
    const evaluation = corpusUnits(config({ n: 300, split: 'eval', seed: 7 }));
    expect(evaluation.length).toBeGreaterThan(0);
    const trainTexts = new Set(train.map((u) => u.text));
    expect(evaluation.filter((u) => trainTexts.has(u.text))).toEqual([]);
    expect(train.every((u) => splitOfText(u.text) === 'train')).toBe(true);
    expect(evaluation.every((u) => splitOfText(u.text) === 'eval')).toBe(true);
    // one bucket in ten: 300 scenes x 2 languages x 3 texts = 1800 candidates, about 180 held out
    const all = corpusUnits(config({ n: 300 })).length + corpusUnits(config({ n: 300, split: 'eval' })).length;
    expect(all).toBe(1800);
    expect(new Set(evaluation.map((u) => u.lang))).toEqual(new Set(['en', 'zh']));
  });

  test('instruction with images: false gives the dialogues as text-only conversations, split like their texts', async () => {
    const dialogues = await collect({ task: 'instruction', images: false });
    const texts = corpusUnits(config({})).filter((u) => u.kind === 'dialogue');
    expect(dialogues.map((e) => e.id)).toEqual(texts.map((u) => u.id));
    for (const example of dialogues) {
      if (example.task !== 'instruction') throw new Error('expected instruction examples');
      expect(example.image).toBeUndefined();
      expect(example.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(example.turns.some((t) => t.content.includes('<image>'))).toBe(false);
    }
  });

  test('config: images: false and split: eval only for the text corpus', () => {
    expect(() => shapesConfigSchema.parse({ task: 'caption', images: false })).toThrow('images: false needs task instruction or text');
    expect(() => shapesConfigSchema.parse({ task: 'vqa', split: 'eval' })).toThrow('split: eval is the held-out text corpus');
  });
});

describe('unigram baseline', () => {
  test('word tokens: lower-cased words, each Chinese character, each punctuation mark', () => {
    expect(wordTokens('Question: How many? Answer: 2')).toEqual(['question', ':', 'how', 'many', '?', 'answer', ':', '2']);
    expect(wordTokens('红色的圆形。')).toEqual(['红', '色', '的', '圆', '形', '。']);
  });

  test('add-one smoothed cross-entropy, hand-computed', () => {
    // train "a a b": N = 3, V = 2 (+1 unknown) → p(a) = 3/6, p(b) = 2/6, p(unknown) = 1/6
    const seen = unigramBaseline(['a a b'], ['a b']);
    expect(seen).toMatchObject({ trainTokens: 3, evalTokens: 2, vocabulary: 2, outOfVocabulary: 0 });
    expect(seen.bitsPerToken).toBeCloseTo((1 + Math.log2(3)) / 2, 12);
    expect(seen.perplexity).toBeCloseTo(Math.sqrt(6), 12);
    const unseen = unigramBaseline(['a a b'], ['c']);
    expect(unseen.outOfVocabulary).toBe(1);
    expect(unseen.perplexity).toBeCloseTo(6, 12);
  });
});
