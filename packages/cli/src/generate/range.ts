// The texts of one range of batch rows (a shard): left-padded batches, batch k sampling with a seed
// derived from (seed, k), so one process and several workers give the same texts.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type GenerationOptions } from '@mmft/core';
import { deriveSeed } from '@mmft/image';
import { imagePixels, readsImages } from '../commands/generate-image';
import { leftPad } from '../commands/generate-inputs';
import { checkRowsForModel, rowIds, where } from './prompt';
import type { BatchModel, BatchOutputRow, BatchRow, GenerateBatchSpec } from './spec';

/**
 * Texts of the rows [start, end) in batches of `spec.batchSize` counted from row 0 (`start` is on a
 * batch boundary), batch k sampling with seed deriveSeed(spec.seed, k).
 *
 * @example
 * const out = await generateRange(model, spec, rows, { start: 0, end: rows.length });
 */
export async function generateRange(
  model: BatchModel,
  spec: GenerateBatchSpec,
  rows: readonly BatchRow[],
  range: { readonly start: number; readonly end: number },
): Promise<BatchOutputRow[]> {
  const tokenizer = model.processor.tokenizer;
  if (!tokenizer) throw new MmftError('E_CHECKPOINT', `${spec.modelDir}: the folder has no tokenizer.json, so prompts cannot be encoded`);
  checkRowsForModel(model, spec, rows.slice(range.start, range.end));
  const options = batchOptions(model, spec);
  const ids = tokenizer.specialTokenIds ?? {};
  const pad = ids.pad ?? ids.eos ?? 0;
  const out: BatchOutputRow[] = [];
  for (let start = range.start; start < range.end; start += spec.batchSize) {
    const batch = rows.slice(start, Math.min(start + spec.batchSize, range.end));
    const owned: tf.Tensor[] = [];
    try {
      const padded = leftPad(
        batch.map((row) => rowIds(model, tokenizer, spec, row)),
        pad,
      );
      const inputIds = tf.tensor2d(padded.ids, undefined, 'int32');
      const attentionMask = tf.tensor2d(padded.mask, undefined, 'int32');
      owned.push(inputIds, attentionMask);
      const inputs: Record<string, tf.Tensor> = { inputIds, attentionMask };
      if (readsImages(model as never)) {
        const files = batch.flatMap((row) => row.images);
        const shown = batch.flatMap((row) => row.images.map((_, k) => where(spec, row, `images[${k}]`)));
        inputs.pixelValues = await imagePixels(model as never, files, shown);
        owned.push(inputs.pixelValues);
      }
      const result = await model.generate(inputs, { ...options, seed: deriveSeed(spec.seed, Math.floor(start / spec.batchSize)) >>> 0 });
      const per = result.texts.length / batch.length;
      batch.forEach((row, i) => {
        const texts = result.texts.slice(i * per, (i + 1) * per);
        out.push({
          id: row.id,
          ...(row.messages ? { messages: row.messages } : { prompt: row.prompt! }),
          text: texts[0] ?? '',
          ...(per > 1 ? { texts } : {}),
        });
      });
    } finally {
      tf.dispose(owned);
    }
  }
  return out;
}

/** The output file's text: one JSON row per input row, in input order. */
export const outputJsonl = (rows: readonly BatchOutputRow[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/**
 * Decoding options of a batch: image rows reach the language model as embeddings, which a
 * generation_config max_length (20 by default) would count, so they get the 20 new tokens
 * generate() gives a text prompt unless a length was asked for (as generate.ts does for one-off rows).
 */
function batchOptions(model: BatchModel, spec: GenerateBatchSpec): GenerationOptions {
  const generation = (model as { generationConfig?: Readonly<Record<string, unknown>> }).generationConfig;
  if (!readsImages(model as never) || spec.options.maxNewTokens !== undefined || generation?.max_new_tokens !== undefined)
    return spec.options;
  return { ...spec.options, maxNewTokens: 20 };
}
