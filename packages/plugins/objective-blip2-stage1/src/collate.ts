// Stage-1 batches: images through @mmft/image with the model's processor.imageProcessing, seeded by
// (seed, epoch, position) as objective-contrastive's collate does, and one caption per image through
// the model's tokenizer, right-padded to the longest row (LAVIS pads to max_txt_len; padding is
// masked out everywhere, so the losses are the same) and truncated to max_length.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type Example, type QueryTransformerModel, type TextTokenizer } from '@mmft/core';
import { deriveSeed, preprocessOptionsSchema, preprocessResolved, type PreprocessOptions } from '@mmft/image';
import { exampleWhere, positiveTexts } from './texts';

/** Preprocess options of the checkpoint (preprocessor_config.json); a model without them cannot read images. */
export function preprocessOf(model: QueryTransformerModel): PreprocessOptions {
  const p = model.processor.imageProcessing ?? model.imageProcessing;
  if (!p) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" has no image processing (preprocessor_config.json)`, {
      hint: 'put preprocessor_config.json in the checkpoint folder',
    });
  }
  return preprocessOptionsSchema.parse({ size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
}

/** The model's tokenizer; a model without one cannot encode captions. */
export function tokenizerOf(model: QueryTransformerModel): TextTokenizer {
  const tokenizer = model.processor.tokenizer ?? model.tokenizer;
  if (!tokenizer) {
    throw new MmftError(
      'E_CHECKPOINT',
      `model "${model.modelType}" has no tokenizer; objective blip2-stage1 needs one to encode captions`,
      {
        hint: "put tokenizer.json (the Q-Former's BERT tokenizer) in the checkpoint folder",
      },
    );
  }
  return tokenizer;
}

/** The decoder knows only the image path: name the data file and line the example came from. */
function imageError(example: Example, cause: unknown): unknown {
  if (!example.source) return cause;
  return new MmftError('E_DATA', `${exampleWhere(example)}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    hint: `run \`mmft data validate ${example.source.file}\` to find every missing or corrupt image before training`,
  });
}

/** Pixels [N, 3, S, S]; image i preprocessed with seed (seed, epoch, positions[i]). */
export async function pixelsOf(
  examples: readonly Example[],
  options: PreprocessOptions,
  seed: number,
  epoch: number,
  positions: readonly number[],
): Promise<tf.Tensor4D> {
  const side = options.cropSize ?? options.size;
  const data = new Float32Array(examples.length * 3 * side * side);
  await Promise.all(
    examples.map(async (example, i) => {
      positiveTexts(example); // refuses other tasks and image-less examples, naming them
      const pixels = await preprocessResolved(example.image!, options, deriveSeed(seed, epoch, positions[i]!)).catch((cause: unknown) =>
        Promise.reject(imageError(example, cause)),
      );
      data.set(pixels.data, i * 3 * side * side);
    }),
  );
  return tf.tensor4d(data, [examples.length, 3, side, side]);
}

/** Token ids and attention mask [N, T] int32, right-padded to the longest text, at most `maxLength` tokens. */
export function tokensOf(
  tokenizer: TextTokenizer,
  texts: readonly string[],
  maxLength: number,
): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D } {
  const encoded = tokenizer.encode(texts, { maxLength, padding: 'longest', truncation: true, paddingSide: 'right' });
  const width = encoded.inputIds[0]?.length ?? 0;
  return {
    inputIds: tf.tensor2d(encoded.inputIds.flat(), [texts.length, width], 'int32'),
    attentionMask: tf.tensor2d(encoded.attentionMask.flat(), [texts.length, width], 'int32'),
  };
}
