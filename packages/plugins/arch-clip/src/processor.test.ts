import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipModel } from './clip-model';
import { createTinyClipCheckpoint } from './testing/tiny-checkpoint';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await mkdtemp(join(tmpdir(), 'mmft-clip-processor-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('ClipModel.processor (CLIPProcessor)', () => {
  test('image preprocessing, the tokenizer with its special-token ids and padding side, towers vision / text / head', async () => {
    const { dir, ids } = await createTinyClipCheckpoint(join(tmp, 'clip'), { seed: 1 });
    const model = await ClipModel.fromPretrained(dir);
    const { processor } = model;
    expect(processor.imageProcessing).toBe(model.imageProcessing);
    expect(processor.tokenizer).toBe(model.tokenizer);
    expect(processor.tokenizer!.specialTokenIds).toEqual({ bos: ids.bos, eos: ids.eos, pad: ids.pad, unk: ids.unk });
    expect(processor.tokenizer!.paddingSide).toBe('right');
    expect(processor.chatTemplate).toBeUndefined();
    expect(processor.towers).toEqual({
      vision: ['vision_model.**', 'visual_projection.**'],
      text: ['text_model.**', 'text_projection.**'],
      head: ['logit_scale'],
    });
    model.dispose();
  });
});
