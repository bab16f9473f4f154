// Which folder of an engine's output `mmft import` takes. Hugging Face Trainer (and so LLaMA-Factory)
// saves `checkpoint-<global_step>` folders under output_dir and the final model in output_dir itself
// (transformers/trainer.py, PREFIX_CHECKPOINT_DIR); ms-swift adds a version level,
// `output/v<N>-<timestamp>/checkpoint-<step>` (modelscope/ms-swift@3602360:swift/arguments/sft_args.py,
// add_version; examples/export/merge_lora.sh).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';

/** What a folder holds, for import. */
export type ImportKind = 'adapter' | 'model';

/** The folder chosen and why. */
export interface ImportSource {
  /** Absolute folder holding the adapter or the model. */
  readonly dir: string;
  readonly kind: ImportKind;
  /** The checkpoint folder's name when one was picked below the given folder ("checkpoint-4"), else undefined. */
  readonly checkpoint?: string;
  /** One line for the user: what was taken and why. */
  readonly reason: string;
}

const CHECKPOINT = /^checkpoint-(\d+)$/;
const SWIFT_VERSION = /^v(\d+)-/;

function entries(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** 'adapter' for a PEFT folder, 'model' for config.json + safetensors weights, else undefined. */
export function kindOf(dir: string): ImportKind | undefined {
  const names = new Set(entries(dir));
  if (names.has('adapter_config.json')) return 'adapter';
  if (names.has('config.json') && (names.has('model.safetensors') || names.has('model.safetensors.index.json'))) return 'model';
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Sub-folders of `dir` matching `re`, highest number first. */
function numbered(dir: string, re: RegExp): { name: string; n: number }[] {
  return entries(dir)
    .map((name) => ({ name, m: re.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null && isDir(path.join(dir, e.name)))
    .map((e) => ({ name: e.name, n: Number(e.m[1]) }))
    .sort((a, b) => b.n - a.n || (a.name < b.name ? 1 : -1));
}

/** Says why `dir` cannot be imported as it is (a .bin-only folder, a DeepSpeed-only checkpoint). */
function whyNot(dir: string): string {
  const names = entries(dir);
  if (names.includes('adapter_model.bin') || names.includes('pytorch_model.bin'))
    return `${dir} holds PyTorch .bin weights only; mmft reads safetensors (the engines write them by default: save_safetensors)`;
  if (names.some((n) => /^global_step\d+$/.test(n)))
    return `${dir} holds DeepSpeed shards only (global_step*/); run its zero_to_fp32.py or save with stage3_gather_16bit_weights_on_model_save`;
  return `${dir} holds neither an adapter (adapter_config.json) nor a model (config.json + model.safetensors or model.safetensors.index.json)`;
}

/**
 * Finds what to import under `given`: the folder itself when it holds an adapter or a model; else its
 * newest `checkpoint-<N>`; else ms-swift's newest `v<N>-*` folder, then its newest checkpoint (or the
 * version folder itself). `checkpoint` picks a folder by name (or relative path) instead.
 *
 * @example
 * locateImport('bundle/output'); // { dir: '/…/bundle/output/checkpoint-4', kind: 'adapter', checkpoint: 'checkpoint-4', … }
 */
export function locateImport(given: string, checkpoint?: string): ImportSource {
  if (!isDir(given)) {
    throw new MmftError('E_INPUT', `${given}: no such folder`, {
      hint: "give the engine's output folder (output_dir), a checkpoint-<N> folder in it, or the bundle's output folder",
    });
  }
  if (checkpoint !== undefined) {
    const candidates = [path.join(given, checkpoint), ...numbered(given, SWIFT_VERSION).map((v) => path.join(given, v.name, checkpoint))];
    const found = candidates.find((c) => isDir(c) && kindOf(c));
    if (!found) {
      const listed = listCheckpoints(given);
      throw new MmftError('E_INPUT', `--checkpoint ${checkpoint}: no adapter or model folder of that name under ${given}`, {
        hint: listed.length ? `checkpoints there: ${listed.join(', ')}` : whyNot(given),
      });
    }
    return {
      dir: found,
      kind: kindOf(found)!,
      checkpoint: path.relative(given, found),
      reason: `took ${path.relative(given, found)} (--checkpoint)`,
    };
  }
  const own = kindOf(given);
  if (own)
    return {
      dir: given,
      kind: own,
      reason: `took the folder itself (it holds ${own === 'adapter' ? 'adapter_config.json' : 'config.json and weights'})`,
    };
  const picked = newestCheckpoint(given);
  if (picked) return { ...picked, reason: `took the newest checkpoint, ${picked.checkpoint}` };
  for (const version of numbered(given, SWIFT_VERSION)) {
    const vdir = path.join(given, version.name);
    const inner = kindOf(vdir) ? { dir: vdir, kind: kindOf(vdir)!, checkpoint: version.name } : newestCheckpoint(vdir, version.name);
    if (inner) return { ...inner, reason: `took the newest ms-swift run ${version.name} and its newest checkpoint, ${inner.checkpoint}` };
  }
  throw new MmftError('E_INPUT', whyNot(given), {
    hint: 'give the folder the engine wrote (output_dir); mmft looks in it, in its checkpoint-<N> folders and in ms-swift v<N>-<time>/checkpoint-<N>',
  });
}

function newestCheckpoint(dir: string, prefix?: string): { dir: string; kind: ImportKind; checkpoint: string } | undefined {
  for (const c of numbered(dir, CHECKPOINT)) {
    const full = path.join(dir, c.name);
    const kind = kindOf(full);
    if (kind) return { dir: full, kind, checkpoint: prefix ? `${prefix}/${c.name}` : c.name };
  }
  return undefined;
}

/** checkpoint folders under `dir` (and under ms-swift version folders), for messages. */
export function listCheckpoints(dir: string): string[] {
  const direct = numbered(dir, CHECKPOINT).map((c) => c.name);
  const versioned = numbered(dir, SWIFT_VERSION).flatMap((v) =>
    numbered(path.join(dir, v.name), CHECKPOINT).map((c) => `${v.name}/${c.name}`),
  );
  return [...direct, ...versioned];
}
