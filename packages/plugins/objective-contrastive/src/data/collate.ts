// Collates examples into the model's inputs: images through @mmft/image with the model's
// preprocessing (size, crop, mean, std as its preprocessor_config.json), texts through the
// model's tokenizer. Hard negatives become extra text rows after the B positives.
import * as tf from '@tensorflow/tfjs-core';
import {
  MmftError,
  type Batch,
  type Example,
  type ImageProcessing,
  type ImageRef,
  type TextTokenizer,
  type VisionLanguageModel,
} from '@mmft/core';
import { deriveSeed, preprocessOptionsSchema, preprocessResolved, type PreprocessOptions } from '@mmft/image';

/** Turns texts and images into tensors for one model. */
export interface Collator {
  /** Pixels [N, 3, S, S] for `examples`; image i is preprocessed with seed (seed, epoch, positions[i]). */
  images(examples: readonly Example[], epoch: number, positions: readonly number[]): Promise<tf.Tensor4D>;
  /** Token ids and attention mask [N, T] (int32). */
  texts(texts: readonly string[]): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D };
}

function needTokenizer(model: VisionLanguageModel): TextTokenizer {
  if (!model.tokenizer) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" has no tokenizer; the trainer needs one to encode captions`, {
      hint: 'put tokenizer.json in the checkpoint folder (model.checkpoint)',
    });
  }
  return model.tokenizer;
}

/** The decoder knows only the image path: name the data file and line the example came from. */
function imageError(example: Example, cause: unknown): unknown {
  if (!example.source) return cause;
  const { file, line } = example.source;
  return new MmftError('E_DATA', `${file}:${line}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    hint: `run \`mmft data validate ${file}\` to find every missing or corrupt image before training`,
  });
}

/** Contrastive training pairs every text with its image: an example without one cannot be used. */
function imageOf(example: Example): ImageRef {
  if (example.image) return example.image;
  const where = example.source ? `${example.source.file}:${example.source.line}, ` : '';
  const what = `example "${example.id}" (${where}task ${example.task}) has no image`;
  throw new MmftError('E_DATA', `${what}; contrastive training needs images`, {
    hint: 'point data.train at caption or retrieval data with an "image" field, or use the causal-lm objective for text-only data',
  });
}

/** Preprocess options from the checkpoint's image processing (CLIP defaults when absent). */
export function preprocessOptionsOf(processing: ImageProcessing | undefined): PreprocessOptions {
  return preprocessOptionsSchema.parse(
    processing ? { size: processing.size, cropSize: processing.cropSize, mean: [...processing.mean], std: [...processing.std] } : {},
  );
}

/**
 * @example
 * const collator = createCollator(model, { seed: 42, maxTextLength: 77 });
 * const pixels = await collator.images(examples, 0, [0, 1, 2]);
 */
export function createCollator(model: VisionLanguageModel, options: { seed: number; maxTextLength: number }): Collator {
  const preprocess = preprocessOptionsOf(model.imageProcessing);
  const side = preprocess.cropSize ?? preprocess.size;
  return {
    async images(examples, epoch, positions) {
      const images = examples.map(imageOf);
      const pixels = await Promise.all(
        examples.map((ex, i) =>
          preprocessResolved(images[i]!, preprocess, deriveSeed(options.seed, epoch, positions[i]!)).catch((cause: unknown) =>
            Promise.reject(imageError(ex, cause)),
          ),
        ),
      );
      const data = new Float32Array(examples.length * 3 * side * side);
      pixels.forEach((p, i) => data.set(p.data, i * 3 * side * side));
      return tf.tensor4d(data, [examples.length, 3, side, side]);
    },
    texts(texts) {
      const encoded = needTokenizer(model).encode(texts, { maxLength: options.maxTextLength, padding: 'longest', truncation: true });
      const length = encoded.inputIds[0]?.length ?? 0;
      return {
        inputIds: tf.tensor2d(encoded.inputIds.flat(), [texts.length, length], 'int32'),
        attentionMask: tf.tensor2d(encoded.attentionMask.flat(), [texts.length, length], 'int32'),
      };
    },
  };
}

/** A training batch: B images, B positive texts then the hard negatives. Caller disposes inputs. */
export async function collateBatch(
  collator: Collator,
  examples: readonly Example[],
  texts: ReadonlyArray<{ positive: string; negative?: string }>,
  epoch: number,
  positions: readonly number[],
): Promise<Batch> {
  const rows = [...texts.map((t) => t.positive), ...texts.flatMap((t) => (t.negative === undefined ? [] : [t.negative]))];
  const pixelValues = await collator.images(examples, epoch, positions);
  return { inputs: { pixelValues, ...collator.texts(rows) }, examples };
}

/** Dispose every tensor of a batch's inputs. */
export function disposeBatch(batch: Batch): void {
  for (const t of Object.values(batch.inputs)) if (t && !(t instanceof tf.Variable)) t.dispose();
}
