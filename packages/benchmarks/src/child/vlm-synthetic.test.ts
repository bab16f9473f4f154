// The synthetic BLIP-2 batches follow their closed form (the torch peer rebuilds them from it): the
// current layout puts Q image tokens labelled −100 in front of the causal-LM text row, the legacy
// layout is the text row alone, the label count is objective-causal-lm's, and the image token may
// not collide with the synthetic text or the padding.
import { describe, expect, test } from '@jest/globals';
import { labelCount } from '@mmft/objective-causal-lm';
import { lmHostBatch } from './lm-synthetic';
import { syntheticPixels } from './synthetic';
import { vlmHostBatch, vlmPromptRow, vlmSpecOf } from './vlm-synthetic';

const spec = { batch: 2, imageSize: 4, textLength: 16, queryTokens: 3, imageTokenId: 0, vocabSize: 50, padId: 1, bosId: 2 };

describe('vlmHostBatch', () => {
  test('current layout: row 1 of batch 2 is [0, 0, 0] then the LM row s = 5, labels −100 on the image span', () => {
    const { ids, mask, labels, length, pixels } = vlmHostBatch(spec, 2);
    expect(length).toBe(19);
    const row = (a: Int32Array) => Array.from(a.slice(19, 38));
    // s = 2·2 + 1 = 5: 16 − (37·5 mod 4) = 15 real tokens, prompt 4 + (65 mod 12) = 9 (lm-synthetic.ts).
    expect(row(ids).slice(0, 4)).toEqual([0, 0, 0, 3 + ((5 * 7919) % 47)]);
    expect(row(ids)[3 + 10]).toBe(3 + ((5 * 7919 + 10 * 104729) % 47));
    expect(row(ids)[18]).toBe(1);
    expect(row(mask)).toEqual([...Array(18).fill(1), 0]);
    expect(row(labels).slice(0, 3 + 9)).toEqual(Array(12).fill(-100));
    expect(row(labels).slice(12, 18)).toEqual(row(ids).slice(12, 18));
    // pixel[s, c, y, x] = sin(0.05·(x+1)·(c+1) + 0.11·y·(c+1) + 0.7·s): sample 5, channel 2, y 3, x 1.
    expect(pixels[1 * 48 + 2 * 16 + 3 * 4 + 1]).toBeCloseTo(Math.sin(0.05 * 2 * 3 + 0.11 * 3 * 3 + 0.7 * 5), 6);
    expect(Array.from(pixels)).toEqual(Array.from(syntheticPixels(spec, 2)));
  });

  test('legacy layout is the LM row alone; the count is labelCount over the rows in both layouts', () => {
    const legacy = vlmHostBatch({ ...spec, imageTokenId: null }, 1);
    const text = lmHostBatch({ batch: 2, length: 16, vocabSize: 50, padId: 1 }, 1);
    expect(legacy.length).toBe(16);
    expect([legacy.ids, legacy.mask, legacy.labels]).toEqual([text.ids, text.mask, text.labels]);
    for (const s of [spec, { ...spec, imageTokenId: null }]) {
      for (let k = 0; k < 4; k++) {
        const host = vlmHostBatch(s, k);
        let expected = 0;
        for (let b = 0; b < 2; b++) expected += labelCount(Array.from(host.labels.slice(b * host.length, (b + 1) * host.length)));
        expect(host.count).toBe(expected);
        expect(host.count).toBe(lmHostBatch({ batch: 2, length: 16, vocabSize: 50, padId: 1 }, k).count);
      }
    }
  });

  test('the caption prompt is [image × Q, bos] (legacy: [bos])', () => {
    expect(vlmPromptRow(spec)).toEqual([0, 0, 0, 2]);
    expect(vlmPromptRow({ ...spec, imageTokenId: null })).toEqual([2]);
  });
});

describe('vlmSpecOf', () => {
  const config = {
    num_query_tokens: 4,
    image_token_index: 0,
    vision_config: { image_size: 32, patch_size: 8 },
    text_config: { model_type: 'opt', vocab_size: 64, pad_token_id: 1, bos_token_id: 2 },
  };

  test('reads the sizes and ids from the config, defaults filled as the plugins fill them', () => {
    expect(vlmSpecOf(config, 8, 12)).toEqual({
      batch: 8,
      imageSize: 32,
      textLength: 12,
      queryTokens: 4,
      imageTokenId: 0,
      vocabSize: 64,
      padId: 1,
      bosId: 2,
    });
    expect(vlmSpecOf({ ...config, image_token_index: null }, 1, 1).imageTokenId).toBeNull();
    expect(vlmSpecOf({ text_config: { model_type: 'opt' } }, 1, 1)).toMatchObject({ imageSize: 224, queryTokens: 32, vocabSize: 50272 });
  });

  test('an image token the synthetic text or the padding could take is refused, naming the field', () => {
    expect(() => vlmSpecOf({ ...config, image_token_index: 5 }, 1, 1, 'x.yaml')).toThrow(/x\.yaml: model\.config\.image_token_index 5/);
    expect(() => vlmSpecOf({ ...config, image_token_index: 1 }, 1, 1)).toThrow(/padding id 1/);
  });
});
