// A tiny HF-layout CLIP as a PEFT test subject (the shape core's describePeftMethod takes): fixed
// inputs and a forward that returns logits_per_image. Shared by every PEFT plugin's tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '@mmft/core/nn';
import { ClipModel } from '../clip-model';
import { createTinyClipCheckpoint } from './tiny-checkpoint';

/** What core's PEFT conformance kit needs of a model (structurally PeftSubject of @mmft/core/testing). */
export interface ClipPeftSubject {
  readonly model: ClipModel;
  readonly root: Module;
  forward(): tf.Tensor;
  dispose(): void;
}

let checkpoint: Promise<string> | undefined;

/** The tiny CLIP checkpoint (seed 5), written once per test process. */
export function tinyClipDir(): Promise<string> {
  checkpoint ??= createTinyClipCheckpoint(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-peft-clip-')), 'clip'), { seed: 5 }).then(
    (c) => c.dir,
  );
  return checkpoint;
}

/**
 * Tiny CLIP: logits_per_image of two images against two texts.
 *
 * @example
 * describePeftMethod(loraMethod, { subjects: [{ name: 'tiny CLIP', make: clipPeftSubject }], ... });
 */
export async function clipPeftSubject(): Promise<ClipPeftSubject> {
  const model = await ClipModel.fromPretrained(await tinyClipDir());
  const { inputIds, attentionMask } = model.tokenize(['a red circle', 'blue square'], { padding: 'longest' });
  const pixelValues = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 7);
  return {
    model,
    root: model.root,
    forward() {
      const out = model.forward({ pixelValues, inputIds, attentionMask });
      const logits = out.logitsPerImage!;
      tf.dispose(Object.values(out).filter((t) => t !== logits));
      return logits;
    },
    dispose: () => (model.dispose(), tf.dispose([inputIds, attentionMask, pixelValues])),
  };
}
