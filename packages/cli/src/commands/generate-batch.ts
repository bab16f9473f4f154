// Batch `mmft generate <model-dir> --input prompts.jsonl --output out.jsonl`: every row of a JSONL
// file through the model, batch by batch, the texts written in input order (atomically, at the
// end). Rows are `{"id"?, "prompt", "images"?}` or `{"id"?, "messages": [{role, content}], "images"?}`
// (a chat, rendered with the tokenizer's chat template and the generation prompt, as transformers'
// apply_chat_template(add_generation_prompt=True)). Prompts are encoded as one-off `mmft generate`
// encodes them (generate-inputs.ts, generate-image.ts). The rows are split into ranges of whole
// batches: the single-process run computes one range, `--queue` hands the ranges to workers
// (queue/generate-shard.ts); each batch samples with a seed derived from (seed, batch index), so
// both give the same texts.
import * as path from 'node:path';
import { MmftError, writeFileAtomic, type GenerationOptions } from '@mmft/core';
import type { CliContext } from '../context';
import { readBatchInput } from '../generate/input';
import { generateRange, outputJsonl } from '../generate/range';
import type { BatchModel, BatchOutputRow, GenerateBatchSpec } from '../generate/spec';
import { runSharded } from '../queue/run-sharded';
import type { GenerateCliOptions } from './generate-inputs';

/** The batch flags `mmft generate` adds to its one-off options. */
export interface GenerateBatchCliOptions extends GenerateCliOptions {
  input?: string;
  output?: string;
  batchSize?: number;
  queue?: string;
  shardSize?: number;
}

/** Runs batch generation; generate.ts calls it when --input is given. */
export async function runGenerateBatch(
  ctx: CliContext,
  modelDir: string,
  o: GenerateBatchCliOptions,
  load: (dir: string, o: GenerateCliOptions) => Promise<BatchModel & { dispose(): void }>,
  decoding: GenerationOptions,
): Promise<void> {
  if ((o.prompt?.length ?? 0) > 0 || (o.image?.length ?? 0) > 0) {
    throw new MmftError('E_INPUT', 'mmft generate: --input takes the prompts and images from the file; drop --prompt and --image', {
      hint: 'put each prompt in a row {"prompt": "...", "images": ["a.png"]}',
    });
  }
  if (!o.output)
    throw new MmftError('E_INPUT', 'mmft generate --input needs --output <file.jsonl>', { hint: 'name the file to write the texts to' });
  const batchSize = o.batchSize ?? 8;
  const shardSize = o.shardSize ?? batchSize * 4;
  if (o.queue && shardSize % batchSize !== 0) {
    throw new MmftError('E_INPUT', `--shard-size ${shardSize} is not a multiple of --batch-size ${batchSize}`, {
      hint: 'shards hold whole batches, so that a queued run computes the batches a single-process run computes',
    });
  }
  const input = path.resolve(ctx.cwd, o.input!);
  const output = path.resolve(ctx.cwd, o.output);
  if (output === input)
    throw new MmftError('E_INPUT', `--output ${o.output} is the --input file`, { hint: 'write the texts to another file' });
  const rows = readBatchInput(input);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (o.doSample && o.seed === undefined) ctx.print(`sampling with --seed ${seed} (give --seed to repeat the run)`);
  const { seed: _ignored, ...options } = decoding;
  const spec: GenerateBatchSpec = {
    modelDir: path.resolve(ctx.cwd, modelDir),
    input,
    adapter: o.adapter ? path.resolve(ctx.cwd, o.adapter) : undefined,
    loadIn4bit: o.loadIn4bit,
    plugin: o.plugin ?? [],
    batchSize,
    chat: o.chat,
    system: o.system,
    options,
    seed,
  };
  let out: BatchOutputRow[];
  if (o.queue) {
    // The workers load the model and check their rows against it (the coordinator needs no model).
    const shards = await runSharded<BatchOutputRow[]>({
      queue: o.queue,
      kind: 'generate',
      spec,
      total: rows.length,
      shardSize,
      ctx,
      label: 'generate',
    });
    out = shards.flat();
  } else {
    const model = await load(spec.modelDir, { ...o, adapter: spec.adapter, prompt: [], image: [] });
    try {
      out = await generateRange(model, spec, rows, { start: 0, end: rows.length });
    } finally {
      model.dispose();
    }
  }
  await writeFileAtomic(output, [new TextEncoder().encode(outputJsonl(out))]);
  ctx.print(`wrote ${out.length} rows to ${output}`);
}
