// The first training batch as the model sees it, for TensorBoard's images dashboard: pixel_values
// after preprocessing, de-normalised with the processor's mean/std (preprocessor_config.json) back
// to 0..255 RGB, each with the example's text; what the user guide's "look at a few samples" asks.
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import type { Example, ImageProcessing, RunTracker } from '@mmft/core';

/**
 * Rows of a [B, 3, H, W] batch as 8-bit RGB (HWC): `x * std + mean` per channel, clamped to 0..1.
 * Without a processor's mean/std the values are taken as already in 0..1.
 *
 * @example
 * const [rgb] = await denormalise(pixelValues, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, 1);
 */
export async function denormalise(
  pixelValues: tf.Tensor,
  processing: Pick<ImageProcessing, 'mean' | 'std'> | undefined,
  limit: number,
): Promise<{ rgb: Uint8Array; width: number; height: number }[]> {
  const [batch, channels, height, width] = pixelValues.shape as number[];
  if (pixelValues.rank !== 4 || channels !== 3) return [];
  const rows = Math.min(batch!, limit);
  const first = tf.slice(pixelValues, [0, 0, 0, 0], [rows, 3, height!, width!]);
  const values = await first.data();
  first.dispose();
  const mean = processing?.mean ?? [0, 0, 0];
  const std = processing?.std ?? [1, 1, 1];
  const plane = height! * width!;
  const out = [];
  for (let r = 0; r < rows; r++) {
    const rgb = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (r * 3 + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = values[base + p]! * std[c]! + mean[c]!;
        rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
    out.push({ rgb, width: width!, height: height! });
  }
  return out;
}

/** What an example says in words, for the text beside its image. */
export function exampleText(example: Example | undefined): string {
  if (!example) return '';
  switch (example.task) {
    case 'caption':
      return example.captions.join('\n\n');
    case 'vqa':
      return `Q: ${example.question}\n\nA: ${example.answer}`;
    case 'retrieval':
      return example.texts.join('\n\n');
    case 'instruction':
      return example.turns.map((t) => `**${t.role}**: ${t.content}`).join('\n\n');
    case 'text':
      return example.text;
    default:
      return example.segments.flatMap((s) => (s.text === undefined ? [] : [s.text])).join(' ');
  }
}

/**
 * Write up to `limit` images of a batch as `samples/<i>` (PNG) with their text (`samples/<i>/text`).
 * Rows map to examples only when the batch has one image per example.
 */
export async function trackSamples(
  tracker: RunTracker,
  step: number,
  batch: { readonly inputs: { readonly pixelValues?: tf.Tensor }; readonly examples: readonly Example[] },
  processing: ImageProcessing | undefined,
  limit = 4,
): Promise<void> {
  const pixels = batch.inputs.pixelValues;
  if (!pixels) return;
  const images = await denormalise(pixels, processing, limit);
  const aligned = pixels.shape[0] === batch.examples.length;
  for (const [i, image] of images.entries()) {
    const png = await sharp(Buffer.from(image.rgb), { raw: { width: image.width, height: image.height, channels: 3 } })
      .png()
      .toBuffer();
    tracker.image(step, `samples/${i}`, new Uint8Array(png), image);
    const text = aligned ? exampleText(batch.examples[i]) : '';
    if (text) tracker.text(step, `samples/${i}/text`, text);
  }
}
