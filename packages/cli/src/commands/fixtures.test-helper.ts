// Setups the CLI's command tests share: a commander program run in-process with its output and
// error captured, a PNG written byte by byte (independently of the code under test, from the PNG
// specification: signature, IHDR, IDAT, IEND, each chunk length + type + data + CRC-32), and the
// tiny BLIP-2 over a tiny OPT with the byte-level OPT tokenizer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { Command } from 'commander';
import { architectureContext, type ArchitectureContext, type TextTokenizer } from '@mmft/core';
import { byteLevelBpeTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { optProvider } from '@mmft/arch-opt';
import { createTinyBlip2Checkpoint } from '@mmft/arch-blip2/testing';
import { createCliContext, type CliContext } from '../context';

/** What a command run printed, and its error (message and hint) when it failed. */
export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly hint?: string;
}

/** A CLI context on `cwd` with these builtins; `out()` is what it printed so far. */
export function captureContext(cwd: string, builtins: readonly string[]): CliContext & { out: () => string } {
  const chunks: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => chunks.push(c));
  return Object.assign(createCliContext({ isTTY: false, stdout, stderr: new PassThrough(), cwd, builtins: [...builtins] }), {
    out: () => Buffer.concat(chunks).toString(),
  });
}

/**
 * Runs `argv` through a program holding the commands `commands(ctx)` builds; a thrown error becomes
 * code 1 with its message as stderr (and its hint), as the tests read it.
 *
 * @example
 * await runCommands((ctx) => [importCommand(ctx)], ['import', 'out'], { cwd: tmp, builtins: BUILTINS });
 */
export async function runCommands(
  commands: (ctx: CliContext) => readonly Command[],
  argv: readonly string[],
  options: { readonly cwd: string; readonly builtins: readonly string[] },
): Promise<CommandRun> {
  const ctx = captureContext(options.cwd, options.builtins);
  const program = new Command('mmft').exitOverride();
  for (const command of commands(ctx)) program.addCommand(command);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { code: 0, stdout: ctx.out(), stderr: '' };
  } catch (error) {
    return { code: 1, stdout: ctx.out(), stderr: (error as Error).message, hint: (error as { hint?: string }).hint };
  }
}

/** CRC-32 of PNG chunks (ISO 3309 polynomial, reflected), bit by bit. */
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit RGB PNG of `rgb` (row-major HWC), filter 0 on every row. */
export function writeTestPng(file: string, width: number, height: number, rgb: Uint8Array): void {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 4 + body.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(height * (1 + 3 * width));
  for (let y = 0; y < height; y++) Buffer.from(rgb.subarray(y * 3 * width, (y + 1) * 3 * width)).copy(raw, y * (1 + 3 * width) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  fs.writeFileSync(
    file,
    Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]),
  );
}

/** The tiny BLIP-2 checkpoint of `createTinyOptBlip2`, and its tokenizer. */
export interface TinyOptBlip2 {
  readonly dir: string;
  readonly tokenizerDir: string;
  readonly tokenizer: TextTokenizer;
  /** One id past the tokenizer's vocabulary, as Blip2Processor adds "<image>". */
  readonly imageToken: number;
  readonly context: ArchitectureContext;
}

/**
 * A tiny BLIP-2 over a 2-layer OPT (hidden 16) at `dir`, with the byte-level OPT tokenizer written to
 * `tokenizerDir`; the language model's vocabulary holds the image token and 7 more ids.
 *
 * @example
 * const { dir, imageToken } = await createTinyOptBlip2(path.join(tmp, 'blip2'), path.join(tmp, 'tokenizer'), { seed: 7 });
 */
export async function createTinyOptBlip2(
  dir: string,
  tokenizerDir: string,
  options: { readonly seed: number; readonly maxPositionEmbeddings?: number; readonly layout?: 'current' | 'legacy' },
): Promise<TinyOptBlip2> {
  fs.mkdirSync(tokenizerDir, { recursive: true });
  const files = byteLevelBpeTokenizerFiles({ flavour: 'opt' });
  for (const [name, data] of files) fs.writeFileSync(path.join(tokenizerDir, name), data);
  const tokenizer = tokenizerFromFiles(files)!;
  const imageToken = tokenizer.vocabSize;
  const textConfig = {
    model_type: 'opt',
    vocab_size: imageToken + 8,
    hidden_size: 16,
    word_embed_proj_dim: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: options.maxPositionEmbeddings ?? 64,
    init_std: 0.5,
  };
  const context = architectureContext({ list: () => [optProvider] });
  await createTinyBlip2Checkpoint(dir, {
    context,
    textConfig,
    tokenizer: tokenizerDir,
    imageTokenIndex: imageToken,
    seed: options.seed,
    ...(options.layout ? { layout: options.layout } : {}),
  });
  return { dir, tokenizerDir, tokenizer, imageToken, context };
}

/** An 8×8 SVG of two colours (`rgb` and its rotation on the left half), so blur and crop change its pixels. */
export function twoColourSvg([r, g, b]: readonly number[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="rgb(${r},${g},${b})"/><rect width="4" height="8" fill="rgb(${b},${r},${g})"/></svg>`;
}

/** A recipe evaluating the `createTinyOptBlip2` checkpoint at ./blip2 on the caption records of ./eval.jsonl, batches of 2, 3 new tokens. */
export const CAPTION_EVAL_RECIPE = [
  'model: { type: blip2, checkpoint: ./blip2 }',
  'data: { train: { type: jsonl, path: ./eval.jsonl }, eval: { type: jsonl, path: ./eval.jsonl } }',
  "objective: { type: causal-lm, max_length: 32, prompts: { caption: 'a photo of' }, generation: { max_new_tokens: 3 } }",
  'metrics: [{ type: caption, tokenizer: none }]',
  'train: { type: standard, batch_size: 2, eval_batch_size: 2 }',
].join('\n');
