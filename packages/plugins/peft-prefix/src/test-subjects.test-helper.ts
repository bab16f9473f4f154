// Test models for the PEFT method tests: the core toy transformer (not CLIP) and a tiny HF-layout CLIP
// from @mmft/arch-clip, each with fixed inputs and a forward that returns one tensor.
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { ClipModel, createTinyClipCheckpoint } from '@mmft/arch-clip';
import { peftToySubject, type PeftSubject } from '@mmft/core/testing';

/** The core toy transformer on two padded sequences. */
export const toySubject = (seed = 3): PeftSubject => peftToySubject(seed);

let clipDir: Promise<string> | undefined;

/** A tiny CLIP checkpoint written once per test file. */
export function tinyClipDir(): Promise<string> {
  clipDir ??= createTinyClipCheckpoint(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-peft-prefix-clip-')), 'clip'), { seed: 5 }).then((c) => c.dir);
  return clipDir;
}

/** Tiny CLIP: logits_per_image of two images against two texts. */
export async function clipSubject(): Promise<PeftSubject & { model: ClipModel }> {
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
