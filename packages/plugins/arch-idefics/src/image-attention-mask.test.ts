import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { MASK_MIN } from '@mmft/core/nn';
import { crossAttentionMask, imageIndexPerToken } from './image-attention-mask';

const IMG = 9;
const EOS = 2;

describe('IDEFICS image attention per text token', () => {
  test('the most recent <image>; none before the first; none after EOS until the next image (processing_idefics.py)', () => {
    // t  t  <img>  t  <img>  t  EOS  t  t  <img>  t
    const ids = [[4, 5, IMG, 6, IMG, 7, EOS, 8, 8, IMG, 3]];
    expect(imageIndexPerToken(ids, IMG, EOS)).toEqual([[-1, -1, 0, 0, 1, 1, 1, -1, -1, 2, 2]]);
    // Without an EOS id, open_flamingo's only_attend_immediate_media: the count of images so far, minus one.
    expect(imageIndexPerToken(ids, IMG)).toEqual([[-1, -1, 0, 0, 1, 1, 1, 1, 1, 2, 2]]);
    // Rows count their own images.
    expect(
      imageIndexPerToken(
        [
          [IMG, 1],
          [1, IMG],
        ],
        IMG,
        EOS,
      ),
    ).toEqual([
      [0, 0],
      [-1, 0],
    ]);
  });

  test('mask: 0 on the attended image’s slots, MASK_MIN elsewhere; gate 1 only where an image is attended', () => {
    const { mask, gate } = crossAttentionMask([[-1, 0, 1, 2]], 2, 2);
    expect(mask.shape).toEqual([1, 1, 4, 4]);
    const M = MASK_MIN;
    expect((mask.arraySync() as number[][][][])[0]![0]).toEqual([
      [M, M, M, M],
      [0, 0, M, M],
      [M, M, 0, 0],
      [M, M, M, M], // image index 2 is beyond max_num_images (2): sees nothing, as incremental_to_binary_attention_mask cuts it
    ]);
    expect(Array.from(gate.dataSync())).toEqual([0, 1, 1, 0]);
    tf.dispose([mask, gate]);
  });
});
