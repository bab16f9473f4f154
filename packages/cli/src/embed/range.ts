// The features of one range of records (a shard) for `mmft embed`: images through the vision
// tower, their texts padded to the longest of the batch as CLIPProcessor(padding=True) pads them.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type Dataset, type Example } from '@mmft/core';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import { base64, concat } from './float-rows';
import type { FeatureModel } from './model';

/**
 * The features of one range of records, JSON-serialisable (a queue job's result): the float32 rows
 * as base64 of their bytes, so no digit is lost on the way back to the coordinator.
 */
export interface EmbedShardResult {
  readonly dim: number;
  /** One per record of the range, in order: its id and image (path, or the key of in-memory bytes). */
  readonly images: ReadonlyArray<{ readonly id: string; readonly image: string }>;
  /** Every text of the range, in order; `owner` is the record's index within the range. */
  readonly texts: ReadonlyArray<{ readonly owner: number; readonly text: string }>;
  readonly imageEmbeds: string;
  readonly textEmbeds: string;
}

function textsOf(example: Example): readonly string[] {
  if (example.task === 'caption') return example.captions;
  if (example.task === 'retrieval') return example.texts;
  const where = example.source ? `${example.source.file}:${example.source.line}` : `record "${example.id}"`;
  throw new MmftError(
    'E_DATA',
    `${where}: a ${example.task} record; mmft embed reads caption and retrieval records (an image and its texts)`,
    {
      hint: 'give records {"image": "a.png", "captions": [...]} or {"image": "a.png", "texts": [...]}',
    },
  );
}

/**
 * Features of the records [start, end) in batches of `batchSize` (counted from `start`, so a range
 * that starts on a batch boundary sees the batches a whole pass sees): each batch's images, then the
 * texts of those records together.
 *
 * @example
 * const shard = await embedRange(model, dataset, { start: 0, end: 64 }, 32);
 */
export async function embedRange(
  model: FeatureModel,
  dataset: Dataset,
  range: { readonly start: number; readonly end: number },
  batchSize: number,
): Promise<EmbedShardResult> {
  const processing = model.processor.imageProcessing;
  const tokenizer = model.processor.tokenizer;
  if (!processing || !tokenizer) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" needs preprocessor_config.json and tokenizer.json in its folder`);
  }
  const options = preprocessOptionsSchema.parse({
    size: processing.size,
    cropSize: processing.cropSize,
    mean: [...processing.mean],
    std: [...processing.std],
  });
  const images: { id: string; image: string }[] = [];
  const texts: { owner: number; text: string }[] = [];
  const imageParts: Float32Array[] = [];
  const textParts: Float32Array[] = [];
  let dim = 0;
  let batch: Example[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const pixels = await Promise.all(
      batch.map((ex) =>
        preprocessResolved(ex.image!, options).catch((cause: unknown) => {
          const where = ex.source ? `${ex.source.file}:${ex.source.line}` : `record "${ex.id}"`;
          throw new MmftError('E_DATA', `${where}: ${cause instanceof Error ? cause.message : String(cause)}`, {
            cause,
            hint: `run \`mmft data validate ${ex.source?.file ?? '<file>'}\` to find every missing or corrupt image`,
          });
        }),
      ),
    );
    const [, h, w] = pixels[0]!.shape;
    const data = new Float32Array(pixels.length * 3 * h * w);
    pixels.forEach((p, i) => data.set(p.data, i * 3 * h * w));
    const rows = batch.flatMap((ex, i) => textsOf(ex).map((text) => ({ owner: images.length + i, text })));
    const imageFeatures = tf.tidy(() => model.getImageFeatures({ pixelValues: tf.tensor4d(data, [pixels.length, 3, h, w]) }));
    imageParts.push((await imageFeatures.data()) as Float32Array);
    dim = imageFeatures.shape[1]!;
    imageFeatures.dispose();
    if (rows.length > 0) {
      const encoded = tokenizer.encode(
        rows.map((r) => r.text),
        { padding: 'longest', truncation: true },
      );
      const width = encoded.inputIds[0]!.length;
      const textFeatures = tf.tidy(() =>
        model.getTextFeatures({
          inputIds: tf.tensor2d(encoded.inputIds.flat(), [rows.length, width], 'int32'),
          attentionMask: tf.tensor2d(encoded.attentionMask.flat(), [rows.length, width], 'int32'),
        }),
      );
      textParts.push((await textFeatures.data()) as Float32Array);
      textFeatures.dispose();
    }
    for (const ex of batch) images.push({ id: ex.id, image: ex.image!.kind === 'file' ? ex.image!.path : ex.image!.key });
    texts.push(...rows);
    batch = [];
  };
  let position = range.start;
  for await (const example of dataset.iterate({ shuffle: false, startAt: range.start })) {
    if (position >= range.end) break;
    textsOf(example);
    batch.push(example);
    position++;
    if (batch.length === batchSize) await flush();
  }
  await flush();
  if (position < range.end) {
    throw new MmftError('E_DATA', `the data ended at record ${position}, before the end of the range [${range.start}, ${range.end})`, {
      hint: 'the data file changed while the run was under way; run again',
    });
  }
  return { dim, images, texts, imageEmbeds: base64(concat(imageParts)), textEmbeds: base64(concat(textParts)) };
}
