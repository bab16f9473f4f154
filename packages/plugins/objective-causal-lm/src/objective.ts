// The causal-LM objective (contract: packages/core/src/contracts/objective.ts): examples → prompt
// and target tokens through the model's tokenizer (chat template or plain text, pieces.ts), labels
// -100 on prompts and padding (encode.ts), a loss summed over label tokens that the loop divides by
// the step's label-token total (transformers' num_items_in_batch, trainer.py), and evaluation by
// teacher-forced loss plus generate() feeding caption (text), VQA and instruction metric inputs: an
// instruction example feeds `instruction` inputs when a metric reads them, else `text` inputs (so a
// caption metric still scores instruction-only data), docs/metrics.md.
//
// Vision→LLM bridges (family 'vision-to-llm' with generate: BLIP-2, LLaVA, IDEFICS) train the same
// way with images added: pixelValues through @mmft/image with the model's preprocessing, seeded by
// (seed, epoch, position) as objective-contrastive's collate does, and the processor's image span
// (ModelProcessor.imageTokens) written into the ids with labels -100. A 'placeholder' bridge (LLaVA,
// IDEFICS) reads one image per `<image>` mark, its pixels [ΣN, 3, S, S] row by row; image-less rows
// (text, image-less instructions) train as text and bring no image (LLaVA's LazySupervisedDataset,
// llava/train/train.py, pads them with a zero image its model never reads). A model that reads an image in every row
// (BLIP-2, either layout) takes exactly one and rejects the others with the example named.
// Few-shot episodes (episodes.ts draws them, encoder.ts renders them) put solved caption or VQA
// examples before each such example (docs/language-models.md, "Few-shot and interleaved data").
import * as tf from '@tensorflow/tfjs-core';
import {
  datasetContext,
  imagesOf,
  isCausalLanguageModel,
  MmftError,
  type Dataset,
  type EvalPart,
  type Example,
  type GenerationOptions,
  type GenerationResult,
  type ImageRef,
  type ImageTokens,
  type MetricInput,
  type ModelInputs,
  type ModelProcessor,
  type Objective,
  type ObjectiveBatch,
  type ObjectiveContext,
  type VisionLanguageModel,
} from '@mmft/core';
import { deriveSeed as imageSeed, preprocessOptionsSchema, preprocessResolved, type PreprocessOptions } from '@mmft/image';
import type { CausalLmConfig, FewShotConfig } from './config';
import { IGNORE_INDEX, labelCount, labelsOf, spanCut } from './encode';
import { createEncoder, type EncodedRow } from './encoder';
import { drawDemos, drawShots, readPool, takesDemos, type DemoPool } from './episodes';
import { conversationOf, exampleWhere, lastInstruction, promptMessages, type ImageMarks } from './pieces';

/** What the objective uses of a causal LM or a vision→LLM bridge. */
interface TextGenerator {
  readonly modelType: string;
  readonly processor: ModelProcessor;
  forward(inputs: ModelInputs): { readonly logits?: tf.Tensor; readonly loss?: tf.Tensor };
  generate(inputs: ModelInputs, options: GenerationOptions): Promise<GenerationResult>;
}

/** How a bridge sees images: 'model' = it places the image embeddings itself (legacy BLIP-2). */
type ImageMode = { readonly kind: 'none' } | { readonly kind: 'model' } | { readonly kind: 'tokens'; readonly tokens: ImageTokens };

const isBridge = (model: VisionLanguageModel): boolean => model.family === 'vision-to-llm' && typeof model.generate === 'function';

function imageMode(model: VisionLanguageModel): ImageMode {
  if (!isBridge(model)) return { kind: 'none' };
  const tokens = model.processor.imageTokens;
  if (!tokens) return { kind: 'model' };
  if (!Number.isInteger(tokens.count) || tokens.count < 1) {
    throw new MmftError(
      'E_CHECKPOINT',
      `model "${model.modelType}": processor.imageTokens.count must be a positive integer, got ${tokens.count}`,
    );
  }
  return { kind: 'tokens', tokens };
}

/** Preprocess options from the checkpoint's image processing (preprocessor_config.json). */
function preprocessOf(model: VisionLanguageModel): PreprocessOptions {
  const p = model.processor.imageProcessing;
  if (!p) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" reads images but has no image processing (preprocessor_config.json)`, {
      hint: 'put preprocessor_config.json in the checkpoint folder',
    });
  }
  return preprocessOptionsSchema.parse({ size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
}

/** The decoder knows only the image path: name the data file and line the example came from. */
function imageError(example: Example, cause: unknown): unknown {
  if (!example.source) return cause;
  return new MmftError('E_DATA', `${exampleWhere(example)}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    hint: `run \`mmft data validate ${example.source.file}\` to find every missing or corrupt image before training`,
  });
}

/** config.generation → GenerationOptions (unset fields stay unset: generation_config.json fills them). */
function generationOptions(config: CausalLmConfig): GenerationOptions {
  const g = config.generation;
  const all: GenerationOptions = {
    maxNewTokens: g.max_new_tokens,
    numBeams: g.num_beams,
    lengthPenalty: g.length_penalty,
    noRepeatNgramSize: g.no_repeat_ngram_size,
    repetitionPenalty: g.repetition_penalty,
    minNewTokens: g.min_new_tokens,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as GenerationOptions;
}

/** Rows of ids padded to the longest on `side`, as int32 tensors with the attention mask (and labels). */
function padRows(
  rows: ReadonlyArray<{ ids: readonly number[]; labels?: readonly number[] }>,
  padId: number,
  side: 'left' | 'right',
): { inputIds: tf.Tensor; attentionMask: tf.Tensor; labels?: tf.Tensor } {
  const width = Math.max(1, ...rows.map((r) => r.ids.length));
  const pad = <T>(row: readonly T[], fill: T): T[] => {
    const extra = new Array<T>(width - row.length).fill(fill);
    return side === 'left' ? [...extra, ...row] : [...row, ...extra];
  };
  const shape: [number, number] = [rows.length, width];
  return {
    inputIds: tf.tensor2d(
      rows.flatMap((r) => pad(r.ids, padId)),
      shape,
      'int32',
    ),
    attentionMask: tf.tensor2d(
      rows.flatMap((r) =>
        pad(
          r.ids.map(() => 1),
          0,
        ),
      ),
      shape,
      'int32',
    ),
    labels: rows.every((r) => r.labels)
      ? tf.tensor2d(
          rows.flatMap((r) => pad(r.labels!, IGNORE_INDEX)),
          shape,
          'int32',
        )
      : undefined,
  };
}

/** Where a phase's demos come from: a dataset (read into memory on first use) and its recipe path, for messages. */
interface DemoSource {
  readonly where: string;
  pool(): Promise<DemoPool>;
}

const demoSource = (where: string, open: () => Promise<Dataset>): DemoSource => {
  let pool: Promise<DemoPool> | undefined;
  return { where, pool: () => (pool ??= open().then(readPool)) };
};

/**
 * The demo sources of few-shot episodes. Training demos come from the training data (the run's, else
 * the recipe's data.train section: an evaluation-only run has no training data), so a training
 * episode never shows the support set; evaluation demos from objective.few_shot.support, opened here
 * as the recipe's data sections are (provider by `type`, strict keys, relative paths from
 * few_shot.base_dir), else from the training data.
 */
async function demoSources(fewShot: FewShotConfig, context: ObjectiveContext): Promise<{ train: DemoSource; eval: DemoSource }> {
  const open = (section: Record<string, unknown>, baseDir: string, where: string) => {
    const { type, ...rest } = section;
    return datasetContext(context.resolver, baseDir, where).open!({ ...rest, type: String(type) }, where);
  };
  const train = demoSource('data.train', async () => {
    if (context.train) return context.train;
    const section = (context.recipe.data as { train?: unknown } | undefined)?.train;
    if (section && typeof section === 'object' && typeof (section as { type?: unknown }).type === 'string') {
      // Its own path fields are resolved already; those of nested sections (a mix's sources) resolve
      // from base_dir, the recipe's folder, as the trainer's datasetContext resolves them.
      return open(section as Record<string, unknown>, fewShot.base_dir, 'data.train');
    }
    throw new MmftError('E_CONFIG', 'objective.few_shot asks for in-context examples, but there is no data to draw them from', {
      hint: 'set objective.few_shot.support to a data section (e.g. { type: shapes, task: caption, n: 64 }), or give the recipe data.train',
    });
  });
  if (!fewShot.support || fewShot.shots === 0) return { train, eval: train };
  // Opened now, so a misspelt support section fails before training starts; read when evaluation first needs it.
  const where = 'objective.few_shot.support';
  const support = await open(fewShot.support, fewShot.base_dir, where);
  return { train, eval: demoSource(where, async () => support) };
}

/** The objective of a run; `model` must be a causal LM or a vision→LLM bridge, with a tokenizer. */
export async function createCausalLm(config: CausalLmConfig, context: ObjectiveContext): Promise<Objective> {
  const model = context.model;
  if (!isCausalLanguageModel(model) && !isBridge(model)) {
    throw new MmftError(
      'E_CONFIG',
      `objective causal-lm needs a causal language model; model is "${model.modelType}" (${model.family}), which does not predict tokens`,
      { hint: 'use a language model (model.type: opt, gpt2, llama) or a vision-to-LLM model, or objective: contrastive for dual encoders' },
    );
  }
  const lm = model as unknown as TextGenerator;
  const mode = imageMode(model);
  const tokens = mode.kind === 'tokens' ? mode.tokens : undefined;
  const marks: ImageMarks = tokens?.placement === 'placeholder' ? 'keep' : 'drop';
  const preprocess = mode.kind === 'none' ? undefined : preprocessOf(model);
  const tokenizer = lm.processor.tokenizer;
  if (!tokenizer)
    throw new MmftError('E_CHECKPOINT', `model "${lm.modelType}" has no tokenizer (tokenizer.json), so texts cannot be encoded`);
  const encoder = createEncoder({ config, tokenizer, tokens, seed: context.seed, modelType: lm.modelType });
  const ids = tokenizer.specialTokenIds ?? {};
  // transformers' generate() and LLaMA-Factory fall back to eos as the pad token when there is none.
  const padId = ids.pad ?? ids.eos ?? 0;
  const decoding = generationOptions(config);
  const fewShot = config.few_shot;
  const sources = fewShot && (fewShot.shots > 0 || fewShot.train_shots[1] > 0) ? await demoSources(fewShot, context) : undefined;

  /** Whether the example's image spans are written; an example the model cannot read is an error (see the file comment). */
  const readsImages = (example: Example): boolean => {
    if (mode.kind === 'none') return false;
    const images = imagesOf(example).length;
    if (images > 1 && marks !== 'keep') {
      throw new MmftError('E_DATA', `${exampleWhere(example)} has ${images} images; model "${lm.modelType}" reads one image per row`, {
        hint: 'use a bridge that reads an image per <image> mark (llava, idefics), or give each example one image',
      });
    }
    if (images > 0) return true;
    if (marks === 'keep') {
      const marked = example.task === 'instruction' && example.turns.some((t) => t.content.includes('<image>'));
      if (!marked) return false;
      throw new MmftError('E_DATA', `${exampleWhere(example)} has an <image> mark but no image`, {
        hint: 'give the example an "image" field, or remove the <image> mark from its text',
      });
    }
    throw new MmftError(
      'E_DATA',
      `${exampleWhere(example)} (task ${example.task}) has no image; model "${lm.modelType}" reads an image in every row (its image span has no text-only form)`,
      {
        hint: 'drop image-less examples from this data (or train the language model alone on them, with model.type of the language model)',
      },
    );
  };

  /** How many demos go before `example` at (epoch, position) in `phase`: train_shots' draw in training, shots in evaluation. */
  const shotsFor = (example: Example, epoch: number, position: number, phase: 'train' | 'eval'): number => {
    if (!fewShot || !sources || !takesDemos(example)) return 0;
    return phase === 'train' ? drawShots(fewShot.train_shots, fewShot.seed, epoch, position) : fewShot.shots;
  };

  /**
   * The row of `example` at (epoch, position): its episode of `k` demos from `pool` (training: every
   * demo's target trained; evaluation: only the query's), with demos dropped from the front until it
   * fits max_length.
   */
  const encodeRow = (
    example: Example,
    epoch: number,
    position: number,
    phase: 'train' | 'eval',
    k: number,
    pool?: DemoPool,
  ): EncodedRow => {
    const image = readsImages(example);
    let demos = k === 0 ? [] : drawDemos(pool!, example, k, fewShot!.seed, epoch, position, sources![phase].where);
    let encoded = encoder.encodeEpisode(demos, example, epoch, position, image, phase === 'train');
    while (demos.length > 0 && encoded.ids.length > config.max_length) {
      demos = demos.slice(1);
      encoded = encoder.encodeEpisode(demos, example, epoch, position, image, phase === 'train');
    }
    return encoded;
  };

  const rowOf = (example: Example, epoch: number, position: number, phase: 'train' | 'eval', k: number, pool?: DemoPool) => {
    const encoded = encodeRow(example, epoch, position, phase, k, pool);
    const cut = spanCut(encoded, config.max_length);
    if (cut) {
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)}: its image span (positions ${cut.start}..${cut.start + cut.length - 1}) does not fit objective.max_length ${config.max_length}, and an image is never cut`,
        { hint: `raise objective.max_length above ${cut.start + cut.length} plus the text to train on, or shorten or drop this example` },
      );
    }
    const row = labelsOf(encoded, config.max_length, config.train_on_prompt);
    if (labelCount(row.labels) === 0) {
      const after = encoded.spans.length > 0 ? ' after its image span' : '';
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)}: nothing is left to train on${after} after truncation to objective.max_length ${config.max_length} (the prompt takes every position)`,
        { hint: 'raise objective.max_length, or shorten or drop this example (mmft data validate lists long examples)' },
      );
    }
    // A model that places the image itself (legacy BLIP-2) has no span: its one image is the query's.
    const images = mode.kind === 'model' ? imagesOf(example) : encoded.images;
    return { ...row, encoded, images };
  };

  /**
   * Pixels of the rows' images in order [ΣN, 3, S, S] (row 0's, then row 1's …): for 'placeholder'
   * bridges one per span, none for a text-only row (undefined when no row has one); for the others
   * one per row [B, 3, S, S]. Image j of the row at `position` is preprocessed with seed
   * (seed, epoch, position[, j]).
   */
  const pixelsOf = async (
    rows: ReadonlyArray<{ images: readonly ImageRef[] }>,
    examples: readonly Example[],
    epoch: number,
    positions: readonly number[],
  ): Promise<tf.Tensor4D | undefined> => {
    const options = preprocess!;
    const side = options.cropSize ?? options.size;
    const jobs = rows.flatMap((r, i) =>
      r.images.map((image, j) => ({
        image,
        example: examples[i]!,
        seed: j === 0 ? imageSeed(context.seed, epoch, positions[i]!) : imageSeed(context.seed, epoch, positions[i]!, j),
      })),
    );
    if (jobs.length === 0) return undefined;
    const data = new Float32Array(jobs.length * 3 * side * side);
    await Promise.all(
      jobs.map(async ({ image, example, seed }, n) => {
        const pixels = await preprocessResolved(image, options, seed).catch((cause: unknown) => Promise.reject(imageError(example, cause)));
        data.set(pixels.data, n * 3 * side * side);
      }),
    );
    return tf.tensor4d(data, [jobs.length, 3, side, side]);
  };

  /** A batch, and per row its encoded tokens and which pixel rows are its images. */
  const collateRows = async (
    examples: readonly Example[],
    at: { epoch: number; positions: readonly number[] },
    phase: 'train' | 'eval',
  ) => {
    const positions = examples.map((_, i) => at.positions[i] ?? i);
    const shots = examples.map((e, i) => shotsFor(e, at.epoch, positions[i]!, phase));
    const pool = shots.some((k) => k > 0) ? await sources![phase].pool() : undefined;
    const rows = examples.map((e, i) => rowOf(e, at.epoch, positions[i]!, phase, shots[i]!, pool));
    const pixelValues = mode.kind === 'none' ? undefined : await pixelsOf(rows, examples, at.epoch, positions);
    const text = padRows(rows, padId, 'right');
    const inputs = pixelValues ? { ...text, pixelValues } : text;
    const count = rows.reduce((n, r) => n + labelCount(r.labels), 0);
    let next = 0;
    const imageRows = rows.map((r) => r.images.map(() => next++));
    const batch: ObjectiveBatch = {
      inputs,
      examples,
      count,
      dispose: () => tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.labels!, ...(pixelValues ? [pixelValues] : [])]),
    };
    return { batch, encoded: rows.map((r) => r.encoded), imageRows };
  };

  const collate = async (examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> =>
    (await collateRows(examples, at, 'train')).batch;

  const loss = (batch: ObjectiveBatch): tf.Scalar => {
    // numItemsInBatch 1: the model returns the sum over label tokens; the loop divides by the step's count.
    const out = lm.forward({ ...batch.inputs, numItemsInBatch: 1 });
    if (out.logits) tf.dispose(out.logits);
    if (!out.loss) throw new MmftError('E_UNSUPPORTED', `model "${lm.modelType}" returned no loss for labelled inputs`);
    return out.loss as tf.Scalar;
  };

  /** What a generation for `example` feeds, given the kinds the metrics read; undefined: nothing reads it. */
  const inputKindOf = (example: Example, kinds: ReadonlySet<string>): 'text' | 'vqa' | 'instruction' | undefined => {
    if (example.task === 'vqa') return kinds.has('vqa') ? 'vqa' : undefined;
    if (example.task === 'instruction' && kinds.has('instruction')) return 'instruction';
    return (example.task === 'caption' || example.task === 'instruction') && kinds.has('text') ? 'text' : undefined;
  };

  /** Metric inputs of one evaluated chunk: generations for caption, VQA and instruction examples (with their rows' pixels). */
  const generateFor = async (
    examples: readonly Example[],
    kinds: ReadonlySet<string>,
    pixels: tf.Tensor | undefined,
    encodedRows: readonly EncodedRow[],
    imageRows: readonly (readonly number[])[],
  ): Promise<MetricInput[]> => {
    const wanted = examples
      .map((example, i) => ({ example, row: i, kind: inputKindOf(example, kinds), encoded: encodedRows[i]! }))
      .filter((w) => w.kind !== undefined);
    if (wanted.length === 0) return [];
    // The prompt is the row up to the query's target: an episode's demos stay in it.
    const prompts = wanted.map(({ encoded }) => ({ ids: encoded.ids.slice(0, Math.min(encoded.lastTargetStart, config.max_length)) }));
    // Decoder-only generation continues the right end of every row: prompts are left-padded.
    const { inputIds, attentionMask } = padRows(prompts, padId, 'left');
    // Left padding goes before a prefix image span; positions come from the mask, so this equals
    // Blip2Processor's padding between the span and the text. Each wanted row takes its own images.
    const gathered = wanted.flatMap((w) => imageRows[w.row]!);
    const pixelValues = pixels && gathered.length > 0 ? tf.tidy(() => tf.gather(pixels, tf.tensor1d(gathered, 'int32'))) : undefined;
    try {
      const result = await lm.generate(pixelValues ? { pixelValues, inputIds, attentionMask } : { inputIds, attentionMask }, decoding);
      return wanted.map(({ example, kind }, i): MetricInput => {
        const prediction = (result.texts[i] ?? '').trim();
        if (example.task === 'vqa') {
          return {
            kind: 'vqa',
            id: example.id,
            prediction,
            answers: example.answers ?? [example.answer],
            answerType: example.answerType,
            questionType: example.questionType,
          };
        }
        if (example.task === 'caption') return { kind: 'text', id: example.id, prediction, references: example.captions };
        // The reply generated is the last assistant turn's, from every turn before it (the encoded prompt).
        const conversation = conversationOf(example, config.prompts, () => 0);
        const reference = promptMessages(conversation).reference ?? '';
        if (kind === 'instruction') {
          const instruction = lastInstruction(conversation);
          return { kind, id: example.id, prediction, reference, instruction, ...(example.lang ? { lang: example.lang } : {}) };
        }
        return { kind: 'text', id: example.id, prediction, references: [reference] };
      });
    } finally {
      tf.dispose([inputIds, attentionMask, ...(pixelValues ? [pixelValues] : [])]);
    }
  };

  /** `data` undefined: the run's eval split. */
  async function* evaluate(given: Dataset | undefined, options: { batchSize: number; kinds: readonly string[] }): AsyncIterable<EvalPart> {
    const data = given ?? context.eval;
    if (!data) return;
    const kinds = new Set(options.kinds);
    let chunk: Example[] = [];
    let position = 0;
    const run = async (examples: Example[], start: number): Promise<EvalPart> => {
      const { batch, encoded, imageRows } = await collateRows(examples, { epoch: 0, positions: examples.map((_, i) => start + i) }, 'eval');
      try {
        const sum = tf.tidy(() => loss(batch));
        const lossSum = (await sum.data())[0]!;
        sum.dispose();
        return { lossSum, count: batch.count, inputs: await generateFor(examples, kinds, batch.inputs.pixelValues, encoded, imageRows) };
      } finally {
        batch.dispose();
      }
    };
    for await (const example of data.iterate({ shuffle: false })) {
      chunk.push(example);
      if (chunk.length === options.batchSize) {
        yield await run(chunk, position);
        position += chunk.length;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield await run(chunk, position);
  }

  return {
    emits: ['text', 'vqa', 'instruction'],
    evalLoss: 'token-cross-entropy',
    trainsModel: true,
    minBatchSize: 1,
    collate,
    loss,
    parameters: () => [],
    evaluate,
    canEvaluate: context.eval !== undefined,
    dispose: () => undefined,
  };
}
