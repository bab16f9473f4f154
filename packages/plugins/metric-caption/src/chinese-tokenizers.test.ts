// Chinese captions under the `char` and `jieba` tokenizers: the tokens (segmentations checked by
// hand) and BLEU-1 / CIDEr-D computed by hand from the pycocoevalcap definitions on two images.
import { describe, expect, test } from '@jest/globals';
import { CaptionMetric } from './caption-metric';
import type { CaptionConfig } from './config';
import { captionMetric } from './plugin';
import { ptbTokenize } from './ptb-tokenizer';
import { charTokenize, jiebaTokenize, resolveTokenizer, tokenizerFor, type TokenizerName } from './tokenizers';

// Image "1": the candidate differs from its reference in one word (圆形 "circle" vs 方形 "square");
// image "2": the candidate equals its reference.
const updates = [
  { id: '1', prediction: '一个红色的圆形。', references: ['一个红色的方形。'] },
  { id: '2', prediction: '两个绿色的三角形', references: ['两个绿色的三角形'] },
];

function score(tokenizer: TokenizerName): ReturnType<CaptionMetric['compute']> {
  const metric = new CaptionMetric({ tokenizer, sigma: 6 });
  metric.update(updates);
  return metric.compute();
}

describe('tokens', () => {
  test('ptb leaves an unsegmented Chinese caption as one word (why the other tokenizers exist)', () => {
    expect(ptbTokenize('一个红色的圆形')).toEqual(['一个红色的圆形']);
  });

  test('char: one token per Han character, CJK punctuation dropped', () => {
    expect(charTokenize('一个红色的圆形。')).toEqual(['一', '个', '红', '色', '的', '圆', '形']);
    expect(charTokenize('一只狗，在草地上。OK')).toEqual(['一', '只', '狗', '在', '草', '地', '上', 'ok']);
  });

  test('jieba: the word segmentations of the test sentences', () => {
    // 一个 (one + classifier) | 红色 (red) | 的 | 圆形 (circle); 三角形 (triangle) is one dictionary word.
    expect(jiebaTokenize('一个红色的圆形。')).toEqual(['一个', '红色', '的', '圆形']);
    expect(jiebaTokenize('一个红色的方形。')).toEqual(['一个', '红色', '的', '方形']);
    expect(jiebaTokenize('两个绿色的三角形')).toEqual(['两个', '绿色', '的', '三角形']);
    // The guide's prompt: HMM joins 这张 ("this" + classifier), the full-width colon is dropped.
    expect(jiebaTokenize('描述这张图片：一只狗在草地上奔跑。')).toEqual(['描述', '这张', '图片', '一只', '狗', '在', '草地', '上', '奔跑']);
  });

  test('text between Chinese words is tokenised as ptb does; full-width letters and digits become ASCII', () => {
    const mixed = "A Dog's toy在地上（左边）２个";
    expect(jiebaTokenize(mixed)).toEqual(['a', 'dog', "'s", 'toy', '在', '地上', '左边', '2', '个']);
    expect(charTokenize(mixed)).toEqual(['a', 'dog', "'s", 'toy', '在', '地', '上', '左', '边', '2', '个']);
    expect(jiebaTokenize('A Dog, running.')).toEqual(ptbTokenize('A Dog, running.'));
    expect(charTokenize('A Dog, running.')).toEqual(ptbTokenize('A Dog, running.'));
    // A word jieba keeps whole with a Latin letter is one token, lower-cased.
    expect(jiebaTokenize('一件T恤')).toEqual(['一件', 't恤']);
  });

  test('empty and punctuation-only captions give no tokens', () => {
    for (const t of [charTokenize, jiebaTokenize]) {
      expect(t('')).toEqual([]);
      expect(t('。，！ ')).toEqual([]);
    }
  });
});

describe('BLEU-1 and CIDEr-D by hand', () => {
  // CIDEr-D: 2 images, so idf = log 2 - log(max(1, df)): an n-gram in both images' references
  // (df 2) weighs 0, any other weighs L = log 2; tf-idf vectors per order n, clipped dot product
  // over norms; equal bigram counts, so no length penalty; mean over n = 1..4, times 10.
  // Image 2 (candidate = reference, every norm non-zero) scores 1 per order: CIDEr 10.
  test('jieba: words', () => {
    const r = score('jieba');
    // Image 1: 一个 红色 的 圆形 vs 一个 红色 的 方形; 的 is in both images (weight 0).
    // n=1: shared 一个, 红色 → 2L² / (√3L · √3L) = 2/3; n=2: 一个红色, 红色的 shared of 3 each → 2/3;
    // n=3: 一个红色的 shared of 2 each → 1/2; n=4: nothing shared → 0.
    const cider1 = ((2 / 3 + 2 / 3 + 1 / 2 + 0) / 4) * 10; // 110/24
    expect(r.perItem!['1']!.cider).toBeCloseTo(cider1, 12);
    expect(r.perItem!['2']!.cider).toBeCloseTo(10, 12);
    expect(r.scores.cider).toBeCloseTo((cider1 + 10) / 2, 12); // 175/24
    // BLEU-1: clipped unigram matches 3 + 4 over 4 + 4 candidate words; lengths equal, so no
    // brevity penalty (beyond the toolkit's 1e-9 smoothing).
    expect(r.scores.bleu1).toBeCloseTo(7 / 8, 9);
    expect(r.tokenizer).toBe('jieba');
  });

  test('char: characters', () => {
    const r = score('char');
    // Image 1: 一 个 红 色 的 圆 形 vs 一 个 红 色 的 方 形. In both images: 个 色 的 形 and the
    // bigram 色的 (绿色的 in image 2), weight 0.
    // n=1: weighted 一 红 圆 vs 一 红 方 → 2/3; n=2: 一个 个红 红色 (色的 0) 的圆 圆形 vs … 的方 方形 → 3/5;
    // n=3: 一个红 个红色 红色的 shared of 5 each → 3/5; n=4: 一个红色 个红色的 shared of 4 → 1/2.
    const cider1 = ((2 / 3 + 3 / 5 + 3 / 5 + 1 / 2) / 4) * 10; // 71/12
    expect(r.perItem!['1']!.cider).toBeCloseTo(cider1, 12);
    expect(r.perItem!['2']!.cider).toBeCloseTo(10, 12);
    expect(r.scores.cider).toBeCloseTo((cider1 + 10) / 2, 12); // 191/24
    // BLEU-1: 6 of 7 characters match in image 1 (all but 圆), 8 of 8 in image 2.
    expect(r.scores.bleu1).toBeCloseTo(14 / 15, 9);
    expect(r.tokenizer).toBe('char');
  });

  test('ptb on the same captions: each caption is one word, so only the identical one matches', () => {
    const r = score('ptb');
    expect(r.scores.bleu1).toBeCloseTo(1 / 2, 9);
    expect(r.tokenizer).toBe('ptb');
  });

  test('the metric names its resolved tokenizer in settings, which the run summary prints (chinese-char reads char)', () => {
    expect(new CaptionMetric({ tokenizer: 'jieba', sigma: 6 }).settings).toEqual({ tokenizer: 'jieba' });
    expect(new CaptionMetric({ tokenizer: 'chinese-char', sigma: 6 }).settings).toEqual({ tokenizer: 'char' });
  });
});

describe('tokenizer names', () => {
  test("'chinese-char' is the earlier name of 'char': same numbers, reported as char", () => {
    const r = score('chinese-char');
    expect(r.tokenizer).toBe('char');
    expect(r.scores).toEqual(score('char').scores);
    expect(resolveTokenizer('chinese-char')).toBe('char');
  });

  // `create` parses what a recipe wrote, so these configs are raw input, not CaptionConfig.
  const raw = (config: Record<string, unknown>): CaptionConfig => config as unknown as CaptionConfig;

  test('the default is ptb and the provider reports it', () => {
    const metric = captionMetric.create(raw({}));
    metric.update([{ kind: 'text', id: '1', prediction: 'a cat', references: ['a cat'] }]);
    expect((metric.compute() as { tokenizer?: string }).tokenizer).toBe('ptb');
  });

  test('an unknown tokenizer is refused with the names that work', () => {
    expect(() => captionMetric.create(raw({ tokenizer: 'jeiba' }))).toThrow(
      /metric "caption": field "tokenizer": unknown tokenizer "jeiba": use 'ptb' .*'char' or 'jieba'/,
    );
    expect(() => tokenizerFor('jeiba' as TokenizerName)).toThrow(/unknown tokenizer "jeiba"/);
  });
});
