// `mmft embed <model-dir> <data.jsonl> --out DIR`: a dual encoder's (CLIP's) image and text features
// for every record of a dataset, as transformers' CLIPModel.get_image_features / get_text_features
// return them (huggingface/transformers@000f1ffd:src/transformers/models/clip/modeling_clip.py:
// visual_projection / text_projection of the pooled output, not L2-normalised; forward() alone
// normalises). Texts are padded to the longest of their batch as CLIPProcessor(padding=True) pads
// them, and cut at the position table's length. The work is split into
// ranges of whole batches ("shards"): the single-process run computes one range holding everything,
// `--queue` hands the ranges to `mmft worker`s (queue/embed-shard.ts), and both merge the shards in
// order with the same code, so both write the same bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import {
  architectureContext,
  checkOutputFolder,
  datasetContext,
  loadAdapter,
  MmftError,
  parseConfig,
  serializeSafetensors,
  writeFolder,
  type Dataset,
  type Example,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import type { CliContext } from '../context';
import { runSharded } from '../queue/run-sharded';

/** What a shard needs; every path absolute, so a worker on another machine reads the same files (a shared filesystem). */
export interface EmbedSpec {
  readonly modelDir: string;
  readonly data: string;
  readonly adapter?: string;
  readonly batchSize: number;
  readonly plugin: readonly string[];
}

/** One row of index.jsonl. */
export type EmbedIndexRow =
  | { readonly kind: 'image'; readonly row: number; readonly id: string; readonly image: string }
  | { readonly kind: 'text'; readonly row: number; readonly id: string; readonly text: string; readonly image_row: number };

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

/** A dual encoder with transformers' two feature methods (arch-clip's ClipModel has them). */
export type FeatureModel = VisionLanguageModel & {
  getImageFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor;
  getTextFeatures(inputs: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor;
};

const isFeatureModel = (model: VisionLanguageModel): model is FeatureModel =>
  model.family === 'dual-encoder' &&
  typeof (model as Partial<FeatureModel>).getImageFeatures === 'function' &&
  typeof (model as Partial<FeatureModel>).getTextFeatures === 'function';

/** A registry with the built-in plugins and `plugin`, its tensor backend selected. */
export async function embedRegistry(ctx: CliContext, plugin: readonly string[]): Promise<PluginRegistry> {
  const registry = await ctx.createRegistry([...plugin]);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  return registry;
}

/** Loads the dual encoder (and adapter) of the spec; any other model is an E_UNSUPPORTED error. */
export async function loadFeatureModel(registry: PluginRegistry, spec: EmbedSpec): Promise<FeatureModel> {
  const modelType = await readModelType(spec.modelDir);
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(spec.modelDir, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(spec.modelDir, {}, architectureContext(registry));
  try {
    if (!isFeatureModel(model)) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `${path.join(spec.modelDir, 'config.json')}: model_type "${modelType}" (${model.family}) is not a dual encoder with image and text features`,
        { hint: 'mmft embed needs a CLIP-style dual encoder (model_type clip); for generative models use mmft generate' },
      );
    }
    if (spec.adapter) {
      await loadAdapter(spec.adapter, model.root, registry.list('peft'), { renameKey: model.checkpointKeyName?.bind(model) });
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The data file opened through the registry's `jsonl` dataset (JSONL, a JSON array, or a LLaMA-Factory dataset_info.json). */
export async function openEmbedData(registry: PluginRegistry, file: string): Promise<Dataset> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new MmftError('E_INPUT', `${file}: no such data file`, { hint: 'give a JSONL file of caption or retrieval records' });
  }
  const provider = registry.resolve('dataset', 'jsonl');
  return provider.open(parseConfig(provider, { path: file }, '<data.jsonl>'), datasetContext(registry, path.dirname(file), '<data.jsonl>'));
}

/** How many records the data holds (its size when known, else one pass without images). */
export async function countRecords(dataset: Dataset): Promise<number> {
  if (dataset.size !== undefined) return dataset.size;
  let n = 0;
  for await (const _ of dataset.iterate({ shuffle: false })) n++;
  return n;
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

/** The rows of several parts, one after another. */
function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

const base64 = (rows: Float32Array): string => Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64');
const floats = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

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

/** The shards of a run, merged in order: the safetensors bytes and index.jsonl text. */
export function mergeEmbedShards(shards: readonly EmbedShardResult[]): {
  readonly safetensors: Uint8Array;
  readonly index: string;
  readonly images: number;
  readonly texts: number;
  readonly dim: number;
} {
  const dim = shards.find((s) => s.images.length > 0)?.dim ?? 0;
  const rows: EmbedIndexRow[] = [];
  const imageParts: Float32Array[] = [];
  const textParts: Float32Array[] = [];
  let imageRow = 0;
  let textRow = 0;
  for (const shard of shards) {
    if (shard.images.length > 0 && shard.dim !== dim) {
      throw new MmftError('E_SHAPE', `shards disagree on the feature width (${shard.dim} and ${dim}): were they computed by one model?`);
    }
    const first = imageRow;
    for (const image of shard.images) rows.push({ kind: 'image', row: imageRow++, id: image.id, image: image.image });
    for (const t of shard.texts)
      rows.push({ kind: 'text', row: textRow++, id: shard.images[t.owner]!.id, text: t.text, image_row: first + t.owner });
    imageParts.push(floats(shard.imageEmbeds));
    textParts.push(floats(shard.textEmbeds));
  }
  const safetensors = serializeSafetensors(
    {
      image_embeds: { dtype: 'F32', shape: [imageRow, dim], data: concat(imageParts) },
      text_embeds: { dtype: 'F32', shape: [textRow, dim], data: concat(textParts) },
    },
    { format: 'pt' },
  );
  // Images first, then texts: a reader takes each kind's rows in order.
  const ordered = [...rows.filter((r) => r.kind === 'image'), ...rows.filter((r) => r.kind === 'text')];
  return {
    safetensors,
    index: ordered.map((r) => JSON.stringify(r)).join('\n') + (ordered.length ? '\n' : ''),
    images: imageRow,
    texts: textRow,
    dim,
  };
}

export interface EmbedCliOptions {
  out: string;
  adapter?: string;
  batchSize: number;
  queue?: string;
  shardSize?: number;
  force?: boolean;
  plugin?: string[];
}

/** Runs the command; exported for programmatic use and tests. */
export async function runEmbed(ctx: CliContext, modelDir: string, dataFile: string, o: EmbedCliOptions): Promise<void> {
  const spec: EmbedSpec = {
    modelDir: path.resolve(ctx.cwd, modelDir),
    data: path.resolve(ctx.cwd, dataFile),
    adapter: o.adapter ? path.resolve(ctx.cwd, o.adapter) : undefined,
    batchSize: o.batchSize,
    plugin: o.plugin ?? [],
  };
  const out = path.resolve(ctx.cwd, o.out);
  checkOutputFolder(out, {
    kind: 'embeddings',
    flag: '--out',
    force: o.force,
    protect: [
      { path: spec.modelDir, role: '<model-dir>' },
      { path: spec.data, role: '<data.jsonl>' },
      ...(spec.adapter ? [{ path: spec.adapter, role: '--adapter' }] : []),
    ],
  });
  const shardSize = o.shardSize ?? spec.batchSize * 4;
  if (o.queue && shardSize % spec.batchSize !== 0) {
    throw new MmftError('E_INPUT', `--shard-size ${shardSize} is not a multiple of --batch-size ${spec.batchSize}`, {
      hint: 'shards hold whole batches, so that a queued run computes the batches a single-process run computes',
    });
  }
  const registry = await embedRegistry(ctx, spec.plugin);
  const dataset = await openEmbedData(registry, spec.data);
  const total = await countRecords(dataset);
  let shards: EmbedShardResult[];
  if (o.queue) {
    shards = await runSharded<EmbedShardResult>({ queue: o.queue, kind: 'embed', spec, total, shardSize, ctx, label: 'embed' });
  } else {
    const model = await loadFeatureModel(registry, spec);
    try {
      shards = [await embedRange(model, dataset, { start: 0, end: total }, spec.batchSize)];
    } finally {
      model.dispose();
    }
  }
  const merged = mergeEmbedShards(shards);
  await writeFolder(
    out,
    async (staged) => {
      fs.writeFileSync(path.join(staged, 'embeddings.safetensors'), merged.safetensors);
      fs.writeFileSync(path.join(staged, 'index.jsonl'), merged.index);
    },
    { kind: 'embeddings' },
  );
  ctx.print(`${merged.images} image and ${merged.texts} text embeddings of width ${merged.dim} (projected, not normalised)`);
  ctx.print(`wrote ${path.join(out, 'embeddings.safetensors')} and index.jsonl`);
}

const positive = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 1, got "${value}"`);
  return n;
};

/**
 * The `embed` command.
 *
 * @example
 * program.addCommand(embedCommand(ctx)); // mmft embed models/clip-shapes-base data/retrieval.jsonl --out runs/emb
 */
export function embedCommand(ctx: CliContext): Command {
  return new Command('embed')
    .description(
      "Image and text features of a dual encoder (CLIP) for a dataset, as transformers' get_image_features / get_text_features (projected, not normalised)",
    )
    .argument('<model-dir>', 'dual encoder folder (config.json, model.safetensors, tokenizer.json, preprocessor_config.json)')
    .argument(
      '<data>',
      'caption or retrieval records (JSONL, a JSON array, or a LLaMA-Factory dataset_info.json); images resolve from its folder',
    )
    .requiredOption('--out <dir>', 'folder to write: embeddings.safetensors (image_embeds [N, D], text_embeds [M, D], F32) and index.jsonl')
    .option('--adapter <dir>', 'a PEFT adapter folder to apply first')
    .option('--batch-size <n>', 'records per forward pass (their texts go in one pass too)', positive('--batch-size'), 32)
    .option(
      '--queue <url>',
      'spread the shards over `mmft worker`s through this Redis (redis://host:port[/db]); workers must see the same paths',
    )
    .option('--shard-size <n>', 'records per queued shard, a multiple of --batch-size (default 4 batches)', positive('--shard-size'))
    .option('--force', 'replace a folder that holds something else')
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures, PEFT methods)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((modelDir: string, data: string, o: EmbedCliOptions) => runEmbed(ctx, modelDir, data, o));
}
