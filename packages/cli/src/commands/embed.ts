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
import { checkOutputFolder, MmftError, writeFolder } from '@mmft/core';
import type { CliContext } from '../context';
import { mergeEmbedShards } from '../embed/merge';
import { countRecords, embedRegistry, loadFeatureModel, openEmbedData, type EmbedSpec } from '../embed/model';
import { embedRange, type EmbedShardResult } from '../embed/range';
import { runSharded } from '../queue/run-sharded';

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
