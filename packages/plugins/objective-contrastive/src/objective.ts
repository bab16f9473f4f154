// The contrastive objective: a batch is B images with one caption each (plus hard negatives),
// the loss a `loss:` plugin (clip, siglip) over the model's embeddings, evaluation the retrieval
// of the eval split (and, from the same embeddings, captioning by retrieval and zero-shot VQA;
// eval/inputs.ts). With feature_based, frozen encoders run once and a head trains on the cached
// features: the objective then draws its own batches (Objective.batches).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  MmftError,
  type Dataset,
  type EvalPart,
  type Example,
  type Loss,
  type MetricInputKind,
  type Objective,
  type ObjectiveBatch,
  type ObjectiveContext,
  type VisionLanguageModel,
  type VqaExample,
} from '@mmft/core';
import * as fs from 'node:fs/promises';
import type { ResolvedContrastive } from './config';
import { collateBatch, createCollator, disposeBatch, type Collator } from './data/collate';
import { pickTexts, positiveTexts } from './data/texts';
import { featureEvalChunks, modelEvalChunks, type EvalRange, type ScoredChunk } from './eval/chunks';
import { answerVocabulary, captionInputs, retrievalInput, vqaInputs, type EvalChunk } from './eval/inputs';
import { loadOrBuildFeatures, type FeatureTable } from './features/feature-cache';
import { FeatureHead } from './features/head';
import { featureBatch, featureBatches, type FeatureBatch } from './features/source';
import { createCacheDir } from './features/tensor-io';
import { embedOne, forwardWithScale } from './model/forward';

const EMITS: readonly MetricInputKind[] = ['retrieval', 'text', 'vqa'];
/**
 * Captioning by retrieval ranks every eval text against each image, and zero-shot VQA ranks the
 * answers of the whole split: neither can be computed from a part of the split. Retrieval inputs
 * are per chunk (the metric joins the chunks' embeddings), so they can.
 */
const WHOLE_SET_KINDS: readonly MetricInputKind[] = ['text', 'vqa'];

type EvalOptions = { batchSize: number; kinds: readonly MetricInputKind[]; range?: EvalRange };

/** A range (a queue shard) with a whole-set kind asked: refused, naming the kind and why. */
function refuseWholeSetKinds(options: EvalOptions): void {
  if (!options.range) return;
  const asked = options.kinds.filter((k) => WHOLE_SET_KINDS.includes(k));
  if (asked.length > 0) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `the contrastive objective computes ${asked.join(' and ')} inputs by comparing every eval example with every other, so it cannot evaluate them on examples ${options.range.start}–${options.range.end - 1} alone`,
      { hint: 'evaluate the whole split in one pass (no --queue), or score only retrieval metrics shard by shard' },
    );
  }
}
const NO_BATCH = { inputs: {}, examples: [] } as const;

/**
 * The loss parameters a run trains. A model that owns its temperature (HF `logit_scale`, passed to
 * the loss as outputs.logitScale, see model/forward.ts) leaves the loss's fallback temperature
 * unused: it must not count as trainable, get optimizer state, or look like part of a PEFT run.
 */
export function trainedLossParameters(model: VisionLanguageModel, loss: Loss): ReadonlyArray<readonly [string, tf.Variable]> {
  const modelOwnsScale = model.root.hasParam('logit_scale');
  return (loss.parameters ?? []).filter(([name]) => !(modelOwnsScale && name === 'logit_scale'));
}

const prefixed = (prefix: string, params: ReadonlyArray<readonly [string, tf.Variable]>) =>
  params.map(([name, v]) => [`${prefix}${name}`, v] as const);

/** Every eval text in dataset order (the strings behind the text rows of the chunks). */
async function evalTexts(data: Dataset): Promise<string[]> {
  const texts: string[] = [];
  for await (const example of data.iterate({ shuffle: false })) texts.push(...positiveTexts(example));
  return texts;
}

/** Retrieval inputs per chunk as they come, caption inputs once all chunks are in. */
async function* partsOf(
  chunks: AsyncIterable<ScoredChunk>,
  kinds: readonly MetricInputKind[],
  texts: () => Promise<string[]>,
): AsyncGenerator<EvalPart> {
  const kept: EvalChunk[] = [];
  for await (const chunk of chunks) {
    if (kinds.includes('text')) kept.push(chunk);
    yield { lossSum: chunk.lossSum, count: chunk.ids.length, inputs: kinds.includes('retrieval') ? [retrievalInput(chunk)] : [] };
  }
  if (kinds.includes('text') && kept.length > 0) yield { lossSum: 0, count: 0, inputs: captionInputs(kept, await texts()) };
}

/** Zero-shot VQA over a vqa split: images ranked against the split's answer vocabulary. */
async function* vqaParts(model: VisionLanguageModel, collator: Collator, data: Dataset, batchSize: number): AsyncGenerator<EvalPart> {
  const examples: VqaExample[] = [];
  for await (const example of data.iterate({ shuffle: false })) if (example.task === 'vqa') examples.push(example);
  const vocabulary = answerVocabulary(examples);
  const embed = async (make: () => tf.Tensor2D): Promise<{ data: Float32Array; dim: number }> => {
    const t = make();
    const out = { data: (await t.data()) as Float32Array, dim: t.shape[1] };
    t.dispose();
    return out;
  };
  const candidates: Float32Array[] = [];
  let dim = 0;
  for (let at = 0; at < vocabulary.length; at += batchSize) {
    const tokens = collator.texts(vocabulary.slice(at, at + batchSize));
    const e = await embed(() => embedOne(model, tokens, 'textEmbeds'));
    tokens.inputIds.dispose();
    tokens.attentionMask.dispose();
    (candidates.push(e.data), (dim = e.dim));
  }
  const all = new Float32Array(candidates.reduce((n, c) => n + c.length, 0));
  candidates.reduce((at, c) => (all.set(c, at), at + c.length), 0);
  for (let at = 0; at < examples.length; at += batchSize) {
    const chunk = examples.slice(at, at + batchSize);
    const pixels = await collator.images(
      chunk,
      0,
      chunk.map((_, i) => at + i),
    );
    const images = await embed(() => embedOne(model, { pixelValues: pixels }, 'imageEmbeds'));
    pixels.dispose();
    yield { lossSum: 0, count: 0, inputs: vqaInputs(chunk, images.data, all, vocabulary, dim || images.dim) };
  }
}

/** The model path: batches through the model's encoders. */
class ModelObjective implements Objective {
  readonly emits = EMITS;
  readonly trainsModel = true;
  /** A contrastive batch of one has no in-batch negative. */
  readonly minBatchSize = 2;
  private readonly collator: Collator;

  constructor(
    private readonly settings: ResolvedContrastive,
    private readonly context: ObjectiveContext,
    private readonly lossFn: Loss,
  ) {
    this.collator = createCollator(context.model, { seed: context.seed, maxTextLength: settings.maxTextLength });
  }

  get canEvaluate(): boolean {
    return this.context.eval !== undefined;
  }

  async collate(examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> {
    const texts = examples.map((ex, i) => pickTexts(ex, this.context.seed, at.epoch, at.positions[i]!, this.settings.hardNegatives));
    const batch = await collateBatch(this.collator, examples, texts, at.epoch, at.positions);
    return { ...batch, count: 1, dispose: () => disposeBatch(batch) };
  }

  loss(batch: ObjectiveBatch): tf.Scalar {
    return this.lossFn.compute(forwardWithScale(this.context.model, batch.inputs), batch);
  }

  parameters(): ReadonlyArray<readonly [string, tf.Variable]> {
    return prefixed('loss.', trainedLossParameters(this.context.model, this.lossFn));
  }

  readonly wholeSetKinds = WHOLE_SET_KINDS;

  evaluate(data: Dataset | undefined, options: EvalOptions): AsyncIterable<EvalPart> {
    refuseWholeSetKinds(options);
    const split = data ?? this.context.eval;
    if (!split)
      throw new MmftError('E_RECIPE', 'the contrastive objective has no evaluation data', { hint: 'add data.eval to the recipe' });
    // One evaluation path per split (retrieval, or zero-shot VQA), chosen by its task: a mixture
    // would be scored only on the examples of its first source's task.
    if (split.tasks && split.tasks.length > 1)
      throw new MmftError('E_DATA', `the contrastive objective evaluates one task per split; data.eval mixes ${split.tasks.join(', ')}`, {
        hint: 'give data.eval examples of one task (retrieval or caption for Recall@K, vqa for zero-shot VQA); mixed tasks need objective causal-lm',
      });
    if (split.task === 'vqa')
      return options.kinds.includes('vqa')
        ? vqaParts(this.context.model, this.collator, split, options.batchSize)
        : (async function* () {})();
    const chunks = modelEvalChunks(this.context.model, split, this.collator, this.lossFn, options.batchSize, options.range);
    return partsOf(chunks, options.kinds, () => evalTexts(split));
  }

  dispose(): void {}
}

/** The feature-based path: a head over features cached once from the frozen encoders. */
class FeatureObjective implements Objective {
  readonly emits: readonly MetricInputKind[] = ['retrieval', 'text'];
  readonly trainsModel = false;
  /** A contrastive batch of one has no in-batch negative. */
  readonly minBatchSize = 2;
  private readonly rowOf: Map<string, number>;

  constructor(
    private readonly settings: ResolvedContrastive,
    private readonly context: ObjectiveContext,
    private readonly lossFn: Loss,
    private readonly tables: { readonly train: FeatureTable; readonly eval?: FeatureTable },
    private readonly head: FeatureHead,
  ) {
    this.rowOf = new Map(tables.train.ids.map((id, row) => [id, row]));
  }

  get size(): number {
    return this.tables.train.count;
  }

  get canEvaluate(): boolean {
    return this.tables.eval !== undefined;
  }

  async collate(examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> {
    const rows = examples.map((ex) => {
      const row = this.rowOf.get(ex.id);
      if (row === undefined)
        throw new MmftError('E_DATA', `example "${ex.id}" is not in the feature cache of data.train`, {
          hint: 'collate examples of data.train',
        });
      return row;
    });
    return featureBatch(this.tables.train, rows, this.context.seed, at.epoch, at.positions, this.settings.hardNegatives);
  }

  batches(start: { seed: number; batchSize: number; dropLast: boolean; epoch: number; position: number }) {
    return featureBatches(this.tables.train, start, this.settings.hardNegatives);
  }

  loss(batch: ObjectiveBatch): tf.Scalar {
    const { image, text } = batch as FeatureBatch;
    return this.lossFn.compute(this.head.forward(image, text), NO_BATCH);
  }

  parameters(): ReadonlyArray<readonly [string, tf.Variable]> {
    return [...prefixed('head.', this.head.namedParameters()), ...prefixed('loss.', this.lossFn.parameters ?? [])];
  }

  readonly wholeSetKinds = WHOLE_SET_KINDS;

  evaluate(_data: Dataset | undefined, options: EvalOptions): AsyncIterable<EvalPart> {
    refuseWholeSetKinds(options);
    if (!this.tables.eval)
      throw new MmftError('E_RECIPE', 'the contrastive objective has no evaluation data', { hint: 'add data.eval to the recipe' });
    const split = this.context.eval;
    const texts = async () => (split ? evalTexts(split) : []);
    return partsOf(featureEvalChunks(this.tables.eval, this.head, this.lossFn, options.batchSize, options.range), options.kinds, texts);
  }

  /** The head's shape; its weights are in the checkpoint's trainable.safetensors under head.*. */
  async saveState(dir: string): Promise<void> {
    await fs.writeFile(
      path.join(dir, 'head_config.json'),
      `${JSON.stringify({ head: this.settings.head, note: 'weights are in trainable.safetensors under head.*' }, null, 2)}\n`,
    );
  }

  async loadState(): Promise<void> {}

  dispose(): void {
    this.head.dispose();
  }
}

/** Build the objective the settings ask for over `context`'s model and data. */
export async function createContrastive(settings: ResolvedContrastive, context: ObjectiveContext): Promise<Objective> {
  const lossSection = context.recipe.loss as Record<string, unknown> | undefined;
  if (!lossSection || typeof lossSection !== 'object') {
    throw new MmftError('E_RECIPE', 'the recipe has no loss: section', {
      hint: 'add loss: { type: clip } (or siglip) and the @mmft/loss-contrastive plugin',
    });
  }
  const { type, ...lossConfig } = lossSection;
  const loss = context.resolver.resolve('loss', type as string).create(lossConfig);
  if (!settings.featureBased) return new ModelObjective(settings, context, loss);
  if (!context.train)
    throw new MmftError('E_RECIPE', 'the feature-based mode needs data.train to cache', { hint: 'add data.train to the recipe' });
  const model = context.model;
  const collator = createCollator(model, { seed: context.seed, maxTextLength: settings.maxTextLength });
  const data = context.recipe.data as Record<string, unknown> | undefined;
  const fingerprint = (split: string) =>
    JSON.stringify({
      model: context.recipe.model,
      data: data?.[split],
      maxTextLength: settings.maxTextLength,
      processing: model.imageProcessing,
    });
  const dir = path.join(context.outputDir, 'features');
  await createCacheDir(dir);
  const train = await loadOrBuildFeatures(
    path.join(dir, 'train.safetensors'),
    fingerprint('train'),
    context.train,
    model,
    collator,
    context.batchSize,
  );
  const evalTable = context.eval
    ? await loadOrBuildFeatures(path.join(dir, 'eval.safetensors'), fingerprint('eval'), context.eval, model, collator, context.batchSize)
    : undefined;
  const scale = model.root.hasParam('logit_scale') ? model.root.param('logit_scale').dataSync()[0] : undefined;
  const head = new FeatureHead(train.dim, settings.head, scale, context.seed);
  return new FeatureObjective(settings, context, loss, { train, eval: evalTable }, head);
}
