// Batch `mmft generate <model-dir> --input prompts.jsonl --output out.jsonl`: every row of a JSONL
// file through the model, batch by batch, the texts written in input order (atomically, at the
// end). Rows are `{"id"?, "prompt", "images"?}` or `{"id"?, "messages": [{role, content}], "images"?}`
// (a chat, rendered with the tokenizer's chat template and the generation prompt, as transformers'
// apply_chat_template(add_generation_prompt=True)). Prompts are encoded as one-off `mmft generate`
// encodes them (generate-inputs.ts, generate-image.ts). The rows are split into ranges of whole
// batches: the single-process run computes one range, `--queue` hands the ranges to workers
// (queue/generate-shard.ts); each batch samples with a seed derived from (seed, batch index), so
// both give the same texts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_MARK, MmftError, writeFileAtomic, type GenerationOptions, type TextTokenizer } from '@mmft/core';
import { deriveSeed } from '@mmft/image';
import type { CliContext } from '../context';
import { runSharded } from '../queue/run-sharded';
import { imagePixels, readsImages, severalImagePromptIds, withImageMark } from './generate-image';
import { leftPad, type GenerateCliOptions } from './generate-inputs';

/** A chat turn of an input row. */
export interface BatchMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One checked input row. */
export interface BatchRow {
  readonly id: string | number;
  readonly prompt?: string;
  readonly messages?: readonly BatchMessage[];
  /** Absolute paths (written relative to the input file's folder, or absolute). */
  readonly images: readonly string[];
  readonly line: number;
}

/** One output row: the id, what was asked, and the text (`texts` too with several returned sequences). */
export interface BatchOutputRow {
  readonly id: string | number;
  readonly prompt?: string;
  readonly messages?: readonly BatchMessage[];
  readonly text: string;
  readonly texts?: readonly string[];
}

/** What a shard needs; paths absolute, so a worker on another machine reads the same files (a shared filesystem). */
export interface GenerateBatchSpec {
  readonly modelDir: string;
  readonly input: string;
  readonly adapter?: string;
  readonly loadIn4bit?: boolean;
  readonly plugin: readonly string[];
  readonly batchSize: number;
  readonly chat?: boolean;
  readonly system?: string;
  /** Decoding options of the command line (unset ones come from generation_config.json). */
  readonly options: GenerationOptions;
  /** The run's seed: batch k samples with deriveSeed(seed, k). */
  readonly seed: number;
}

const ROW_KEYS = new Set(['id', 'prompt', 'messages', 'images']);
const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * The rows of an input file, checked: a bad row is an E_INPUT error naming file:line and the field.
 *
 * @example
 * readBatchInput('prompts.jsonl'); // [{ id: 0, prompt: 'a red', images: [], line: 1 }, ...]
 */
export function readBatchInput(file: string): BatchRow[] {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new MmftError('E_INPUT', `--input ${file}: no such file`, { hint: 'give a JSONL file of {"prompt": "..."} rows' });
  }
  const dir = path.dirname(file);
  const rows: BatchRow[] = [];
  const lines = fs
    .readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  lines.forEach((text, i) => {
    const line = i + 1;
    if (text.trim() === '') return;
    const fail = (field: string | undefined, message: string, hint: string): never => {
      throw new MmftError('E_INPUT', `${file}:${line}${field ? `: ${field}` : ''}: ${message}`, { hint });
    };
    const shape =
      'rows are {"id"?, "prompt": "...", "images"?: ["a.png"]} or {"id"?, "messages": [{"role": "user", "content": "..."}], "images"?}';
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      fail(undefined, `not JSON (${cause instanceof Error ? cause.message : String(cause)})`, 'write one JSON object per line');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(undefined, 'not a JSON object', shape);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!ROW_KEYS.has(key)) fail(key, 'unknown field', shape);
    if (record.id !== undefined && typeof record.id !== 'string' && typeof record.id !== 'number')
      fail('id', 'must be a string or a number', shape);
    if ((record.prompt === undefined) === (record.messages === undefined))
      fail('prompt', 'give exactly one of "prompt" and "messages"', shape);
    if (record.prompt !== undefined && typeof record.prompt !== 'string') fail('prompt', 'must be a string', shape);
    let messages: BatchMessage[] | undefined;
    if (record.messages !== undefined) {
      if (!Array.isArray(record.messages) || record.messages.length === 0)
        fail('messages', 'must be a non-empty list of {role, content}', shape);
      messages = (record.messages as unknown[]).map((m, k) => {
        const turn = m as Record<string, unknown>;
        if (typeof m !== 'object' || m === null || !ROLES.has(turn.role as string))
          fail(`messages[${k}].role`, 'must be "system", "user" or "assistant"', shape);
        if (typeof turn.content !== 'string') fail(`messages[${k}].content`, 'must be a string', shape);
        return { role: turn.role as BatchMessage['role'], content: turn.content as string };
      });
    }
    const images = record.images ?? [];
    if (!Array.isArray(images)) fail('images', 'must be a list of image paths', shape);
    const resolved = (images as unknown[]).map((image, k) => {
      if (typeof image !== 'string' || image === '') fail(`images[${k}]`, 'must be an image path', shape);
      const full = path.resolve(dir, image as string);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile())
        fail(`images[${k}]`, `no such file (${full})`, "image paths resolve from the input file's folder");
      return full;
    });
    rows.push({
      id: (record.id as string | number | undefined) ?? rows.length,
      ...(messages ? { messages } : { prompt: record.prompt as string }),
      images: resolved,
      line,
    });
  });
  if (rows.length === 0) throw new MmftError('E_INPUT', `--input ${file}: no rows`, { hint: 'write one JSON object per line' });
  return rows;
}

/** A tokenizer that can render a chat template (core's HfTokenizer). */
interface ChatTokenizer extends TextTokenizer {
  readonly chatTemplate?: string;
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

/** A loaded model `mmft generate` runs (generate.ts loads it). */
export interface BatchModel {
  readonly modelType: string;
  readonly family: string;
  readonly processor: import('@mmft/core').ModelProcessor;
  generate(inputs: import('@mmft/core').ModelInputs, options?: GenerationOptions): Promise<import('@mmft/core').GenerationResult>;
}

const where = (spec: GenerateBatchSpec, row: BatchRow, field: string) => `${spec.input}:${row.line}: ${field}`;

/** Checks the rows against the model: images where it reads them, none where it does not, one `<image>` mark per image. */
export function checkRowsForModel(model: BatchModel, spec: GenerateBatchSpec, rows: readonly BatchRow[]): void {
  const images = readsImages(model as never);
  for (const row of rows) {
    const text = row.prompt ?? row.messages!.map((m) => m.content).join('\n');
    const marks = text.split(IMAGE_MARK).length - 1;
    if (!images && row.images.length > 0) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, 'images')}: ${spec.modelDir} is a language model (${model.modelType}) without a vision tower`,
        {
          hint: 'drop "images" from the rows, or generate with a vision-language checkpoint (blip-2, llava)',
        },
      );
    }
    if (images && row.images.length === 0) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, 'images')}: ${spec.modelDir} (${model.modelType}) reads an image with every prompt, and this row has none`,
        {
          hint: 'give "images": ["a.png"] on every row',
        },
      );
    }
    if (images && (row.images.length > 1 ? marks !== row.images.length : marks > 1)) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, row.prompt !== undefined ? 'prompt' : 'messages')}: ${marks} "${IMAGE_MARK}" marks for ${row.images.length} images`,
        {
          hint: `write one "${IMAGE_MARK}" per image, in the order of "images" (with one image the mark may be left out: it goes in front)`,
        },
      );
    }
  }
}

function chatText(tokenizer: TextTokenizer, spec: GenerateBatchSpec, row: BatchRow, messages: readonly BatchMessage[]): string {
  const chat = tokenizer as ChatTokenizer;
  if (typeof chat.applyChatTemplate !== 'function' || !chat.chatTemplate) {
    throw new MmftError(
      'E_CONFIG',
      `${where(spec, row, row.messages ? 'messages' : 'prompt')}: a chat needs a chat_template in ${path.join(spec.modelDir, 'tokenizer_config.json')}, and this tokenizer has none`,
      { hint: 'write "prompt" rows without --chat to send them as written, or use a checkpoint with a chat_template' },
    );
  }
  const system = spec.system !== undefined && messages[0]?.role !== 'system' ? [{ role: 'system' as const, content: spec.system }] : [];
  return chat.applyChatTemplate([...system, ...messages], { addGenerationPrompt: true });
}

/** The token ids of a row: as written, or through the chat template (which writes bos itself, so no special tokens are added). */
function rowIds(model: BatchModel, tokenizer: TextTokenizer, spec: GenerateBatchSpec, row: BatchRow): number[] {
  const imageTokens = model.processor.imageTokens;
  const reads = readsImages(model as never);
  const mark = (content: string) => (reads && row.images.length === 1 ? withImageMark(content, imageTokens) : content);
  let text: string;
  let special: boolean;
  if (row.messages) {
    // The image goes in the first user turn when no turn places it, as LLaVA's data does.
    const placed = row.messages.some((m) => m.content.includes(IMAGE_MARK));
    const first = row.messages.findIndex((m) => m.role === 'user');
    const messages = row.messages.map((m, i) => (!placed && i === first ? { ...m, content: mark(m.content) } : m));
    [text, special] = [chatText(tokenizer, spec, row, messages), false];
  } else if (spec.chat) {
    [text, special] = [chatText(tokenizer, spec, row, [{ role: 'user', content: mark(row.prompt!) }]), false];
  } else {
    [text, special] = [mark(row.prompt!), true];
  }
  if (reads) return severalImagePromptIds(tokenizer, text, imageTokens, special, where(spec, row, row.messages ? 'messages' : 'prompt'));
  return tokenizer.encode([text], { truncation: false, addSpecialTokens: special }).inputIds[0]!;
}

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
