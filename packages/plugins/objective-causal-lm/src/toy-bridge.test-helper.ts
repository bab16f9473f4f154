// A toy vision→LLM bridge for the objective's tests, built from core pieces (tinyCausalLm + a Linear
// from pooled pixels to `count` image embeddings) in the three layouts a processor can declare (image
// span in front, at each `<image>` mark, or placed by the model itself), with the fixtures around it.
import '@tensorflow/tfjs-backend-cpu';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  isMmftError,
  type Dataset,
  type Example,
  type GenerationOptions,
  type GenerationResult,
  type ImageTokens,
  type ModelInputs,
  type ModelProcessor,
  type ObjectiveContext,
  type ProviderResolver,
  type TextTokenizer,
  type VisionLanguageModel,
} from '@mmft/core';
import { Linear, Module } from '@mmft/core/nn';
import { tinyCausalLm, type TinyCausalLm } from '@mmft/core/testing';
import { causalLmProvider } from './plugin';
import { IGNORE_INDEX } from './encode';

export const IMAGES = path.join(__dirname, '..', '..', 'data-jsonl', 'fixtures', 'images');
export const png = (name: string) => ({ kind: 'file', path: path.join(IMAGES, `${name}.png`) }) as const;
export const source = { file: 'data/train.jsonl', line: 3 };
export const caption = (id: string, captions: string[], image = png('red')): Example => ({ id, task: 'caption', image, captions, source });
export const vqa = (id: string, question: string, answer: string, image = png('green')): Example => ({
  id,
  task: 'vqa',
  image,
  question,
  answer,
  source,
});
export const text = (id: string, t: string): Example => ({ id, task: 'text', text: t, source });
export const MEAN: [number, number, number] = [0.5, 0.4, 0.3];
export const STD: [number, number, number] = [0.2, 0.25, 0.5];
export const SIDE = 4;
export const COUNT = 3;

class Root extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** A bridge whose k-th image token of a row takes image embedding k (masked_scatter order), or that prepends them ('model'). */
export class ToyBridge implements VisionLanguageModel {
  readonly modelType = 'toy-bridge';
  readonly family = 'vision-to-llm' as const;
  readonly root = new Root();
  readonly config = {};
  readonly processor: ModelProcessor;
  readonly calls: Array<{ pixels: number[][][][]; ids: number[][] }> = [];
  readonly generated: Array<{ pixels: number[][][][]; ids: number[][]; mask: number[][] }> = [];
  constructor(
    readonly lm: TinyCausalLm,
    readonly imageTokens: ImageTokens | undefined,
  ) {
    this.root.registerModule('language_model', lm.root);
    this.root.registerModule('projector', new Linear(3, COUNT * 8, { seed: 4 }));
    const base = {
      ...lm.processor,
      imageProcessing: { size: SIDE, cropSize: SIDE, mean: MEAN, std: STD },
      towers: { language: ['language_model.**'], projector: ['projector.**'] },
    };
    this.processor = imageTokens ? { ...base, imageTokens } : base;
  }
  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }
  private spliced(inputs: ModelInputs): { inputsEmbeds: tf.Tensor; attentionMask: tf.Tensor; labels?: tf.Tensor } {
    const ids = inputs.inputIds!;
    const [b, t] = ids.shape as [number, number];
    const text = this.lm.embedTokens(ids);
    const mask = inputs.attentionMask ?? tf.onesLike(ids);
    const count = this.imageTokens?.count ?? COUNT;
    const featuresOf = (pixels: tf.Tensor) =>
      tf.slice(
        tf.reshape(this.root.getModule<Linear>('projector').forward(tf.mean(pixels, [2, 3])), [pixels.shape[0]!, COUNT, 8]),
        [0, 0, 0],
        [-1, count, -1],
      );
    if (!this.imageTokens) {
      const features = featuresOf(inputs.pixelValues!);
      const labels = inputs.labels && tf.concat([tf.fill([b, count], IGNORE_INDEX, 'int32'), inputs.labels], 1);
      return { inputsEmbeds: tf.concat([features, text], 1), attentionMask: tf.concat([tf.ones([b, count], mask.dtype), mask], 1), labels };
    }
    // As LLaVA's embedInputsWithImages: the k-th image token of the batch, in reading order, takes
    // feature k of the images [ΣN, 3, S, S]; every image must fill one span.
    const rowsOf = ids.arraySync() as number[][];
    const images = inputs.pixelValues?.shape[0] ?? 0;
    const total = rowsOf.flat().filter((id) => id === this.imageTokens!.tokenId).length;
    if (total !== images * count) throw new Error(`toy bridge: ${total} image tokens for ${images} images`);
    if (images === 0) return { inputsEmbeds: text, attentionMask: mask, labels: inputs.labels };
    const features = featuresOf(inputs.pixelValues!);
    const index: number[] = [];
    const isImage: boolean[] = [];
    let k = 0;
    rowsOf.forEach((row) =>
      row.forEach((id) => {
        const image = id === this.imageTokens!.tokenId;
        index.push(image ? k++ : 0);
        isImage.push(image);
      }),
    );
    const scattered = tf.reshape(tf.gather(tf.reshape(features, [images * count, 8]), tf.tensor1d(index, 'int32')), [b, t, 8]);
    const where = tf.tile(tf.reshape(tf.tensor1d(isImage, 'bool'), [b, t, 1]), [1, 1, 8]);
    return { inputsEmbeds: tf.where(where, scattered, text), attentionMask: mask, labels: inputs.labels };
  }
  forward(inputs: ModelInputs): Record<string, tf.Tensor> {
    this.calls.push({ pixels: (inputs.pixelValues?.arraySync() ?? []) as number[][][][], ids: inputs.inputIds!.arraySync() as number[][] });
    return tf.tidy(() => {
      const s = this.spliced(inputs);
      const out = this.lm.forward({ ...s, numItemsInBatch: inputs.numItemsInBatch });
      const result: Record<string, tf.Tensor> = { logits: out.logits };
      if (out.loss) result.loss = out.loss;
      return result;
    });
  }
  async generate(inputs: ModelInputs, options: GenerationOptions): Promise<GenerationResult> {
    this.generated.push({
      pixels: (inputs.pixelValues?.arraySync() ?? []) as number[][][][],
      ids: inputs.inputIds!.arraySync() as number[][],
      mask: inputs.attentionMask!.arraySync() as number[][],
    });
    const s = tf.tidy(() => this.spliced(inputs));
    try {
      return await this.lm.generate({ inputsEmbeds: s.inputsEmbeds, attentionMask: s.attentionMask }, options);
    } finally {
      tf.dispose([s.inputsEmbeds, s.attentionMask]);
    }
  }
  async save(): Promise<void> {}
  dispose(): void {
    this.root.dispose();
  }
}

export const lm = tinyCausalLm({ seed: 3 });
export const tok = lm.processor.tokenizer!;
export const eos = tok.specialTokenIds!.eos!;
// A byte token none of these texts use (the last id is <|endoftext|>, i.e. eos and pad).
export const IMAGE_ID = tok.encode(['@'], { addSpecialTokens: false, truncation: false }).inputIds[0]![0]!;
/** A toy bridge; `count` image tokens per image (LLaVA: many, IDEFICS: 1). */
export const bridge = (placement: ImageTokens['placement'] | 'model', count = COUNT) =>
  new ToyBridge(lm, placement === 'model' ? undefined : { tokenId: IMAGE_ID, count, placement });

export const datasetOf = (examples: Example[]): Dataset => ({
  task: examples[0]!.task,
  size: examples.length,
  async *iterate() {
    yield* examples;
  },
});
export const contextOf = (model: VisionLanguageModel, evalData?: Example[], trainData?: Example[]): ObjectiveContext => ({
  model,
  resolver: {} as ProviderResolver,
  recipe: {},
  seed: 11,
  outputDir: '/tmp',
  eval: evalData ? datasetOf(evalData) : undefined,
  train: trainData ? datasetOf(trainData) : undefined,
  batchSize: 2,
});
export const create = (config: Record<string, unknown>, model: VisionLanguageModel, evalData?: Example[], trainData?: Example[]) =>
  causalLmProvider.create(causalLmProvider.configSchema.parse(config), contextOf(model, evalData, trainData));
export const bare = (s: string) => tok.encode([s], { addSpecialTokens: false, truncation: false }).inputIds[0]!;
export const rows = (t: tf.Tensor) => t.arraySync() as number[][];
export const span = new Array<number>(COUNT).fill(IMAGE_ID);
export const ignored = (n: number) => new Array<number>(n).fill(IGNORE_INDEX);

export async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMmftError(error)) throw new Error(`expected an MmftError, got ${String(error)}`);
  return error;
}
