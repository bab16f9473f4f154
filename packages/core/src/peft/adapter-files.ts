// Adapter folders as PEFT's save_pretrained writes them (peft_model.py + utils/save_and_load.py):
// adapter_config.json (the method's config, snake_case, with peft_type) and
// adapter_model.safetensors (F32 tensors under PEFT's key names, metadata {"format": "pt"}).
// Both files are written atomically; loading picks the method by peft_type.
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { AppliedAdapter, PeftMethodProvider } from '../contracts/peft';
import { MmftError } from '../errors';
import { writeFileAtomic } from '../io/atomic-write';
import { readSafetensors } from '../io/safetensors';
import { writeSafetensors, type WritableTensor } from '../io/safetensors-write';
import type { Module } from '../nn/module';
import { PEFT_KEY_PREFIX } from './peft-keys';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/**
 * Writes `applied` to `dir` (created if needed) in PEFT's layout.
 *
 * @example
 * await saveAdapter('out/adapter', loraMethod, config, applied, { baseModelNameOrPath: 'openai/clip-vit-base-patch32' });
 */
export async function saveAdapter<C>(
  dir: string,
  provider: PeftMethodProvider<C>,
  config: C,
  applied: AppliedAdapter,
  options: { baseModelNameOrPath?: string | null } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, WritableTensor>();
  for (const [key, t] of applied.adapterStateDict()) {
    const data = t.dtype === 'float32' ? ((await t.data()) as Float32Array) : ((await tf.cast(t, 'float32').data()) as Float32Array);
    tensors.set(key, { dtype: 'F32', shape: t.shape, data });
  }
  const json = { ...provider.toAdapterConfig(config, options.baseModelNameOrPath ?? null), ...applied.adapterConfigExtras?.() };
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG_FILE), [new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`)]);
}

/**
 * adapter_config.json of `dir`, parsed; a missing file or one without peft_type is an error.
 *
 * @example
 * const { peft_type } = await readAdapterConfig('out/adapter');
 */
export async function readAdapterConfig(dir: string): Promise<Record<string, unknown> & { peft_type: string }> {
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `cannot read ${file}: ${(cause as Error).message}`, {
      cause,
      hint: 'an adapter folder holds adapter_config.json and adapter_model.safetensors (PEFT save_pretrained)',
    });
  }
  if (typeof json !== 'object' || json === null || typeof (json as { peft_type?: unknown }).peft_type !== 'string') {
    throw new MmftError('E_CHECKPOINT', `${file}: no "peft_type" string; this is not a PEFT adapter config`);
  }
  return json as Record<string, unknown> & { peft_type: string };
}

/** The provider among `providers` whose peftType is the config's; an error lists the known types. */
export function providerForPeftType(providers: readonly PeftMethodProvider[], peftType: string, file: string): PeftMethodProvider {
  const found = providers.find((p) => p.peftType === peftType);
  if (!found) {
    const known = providers.map((p) => `${p.peftType} (${p.id})`).join(', ') || '(no PEFT plugin loaded)';
    throw new MmftError('E_UNKNOWN_ID', `${file}: peft_type "${peftType}" is not provided by any loaded PEFT plugin; known: ${known}`, {
      hint: 'load the plugin for this method (e.g. @mmft/peft-lora for LORA)',
    });
  }
  return found;
}

/** What `loadAdapter` returns. */
export interface LoadedAdapter {
  readonly provider: PeftMethodProvider;
  readonly config: unknown;
  readonly applied: AppliedAdapter;
}

/** adapter_config.json with the entries of its module-name lists renamed. */
function renameModuleLists<J extends Record<string, unknown>>(json: J, rename: (key: string) => string): J {
  const out: Record<string, unknown> = { ...json };
  for (const field of ['target_modules', 'exclude_modules', 'modules_to_save'])
    if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).map((m) => (typeof m === 'string' ? rename(m) : m));
  return out as J;
}

/**
 * Applies the adapter saved in `dir` to `root` under `adapterName` and loads its weights. The
 * method is the provider whose peftType matches adapter_config.json; unknown tensor names are an
 * error (the adapter is removed again, leaving `root` as it was).
 *
 * @example
 * const { applied } = await loadAdapter('out/adapter', model.root, registry.list('peft'));
 */
export async function loadAdapter(
  dir: string,
  root: Module,
  providers: readonly PeftMethodProvider[],
  options: {
    adapterName?: string;
    /**
     * Renames a module key of the file (after `base_model.model.`) to this tree's: pass the model's
     * `checkpointKeyName` so adapters saved under another key layout of the architecture load.
     */
    renameKey?: (key: string) => string;
  } = {},
): Promise<LoadedAdapter> {
  const rename = options.renameKey;
  const read = await readAdapterConfig(dir);
  // Module names listed in full (PEFT writes target_modules expanded when fewer than 20) follow the
  // file's layout too; a regex string is kept as written.
  const json = rename ? renameModuleLists(read, rename) : read;
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  const provider = providerForPeftType(providers, json.peft_type, file);
  const config = provider.fromAdapterConfig(json, file);
  const { tensors } = await readSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE));
  const keyOf = (name: string): string =>
    rename && name.startsWith(PEFT_KEY_PREFIX) ? PEFT_KEY_PREFIX + rename(name.slice(PEFT_KEY_PREFIX.length)) : name;
  if (new Set([...tensors.keys()].map(keyOf)).size !== tensors.size)
    throw new MmftError(
      'E_CHECKPOINT',
      `${path.join(dir, ADAPTER_WEIGHTS_FILE)}: two tensors map to one name of this model (the file mixes key layouts)`,
      {
        hint: 'save the adapter again from one model, in one key layout',
      },
    );
  const applied = provider.apply(root, config, options.adapterName ?? 'default');
  const loaded = new Map(
    [...tensors].map(([name, t]) => [keyOf(name), tf.tensor(Float32Array.from(t.data as ArrayLike<number>), t.shape, 'float32')] as const),
  );
  try {
    applied.loadAdapterStateDict(loaded);
  } catch (error) {
    applied.remove();
    throw error instanceof MmftError
      ? new MmftError(error.code, `${path.join(dir, ADAPTER_WEIGHTS_FILE)}: ${error.message}`, { cause: error, hint: error.hint })
      : error;
  } finally {
    tf.dispose([...loaded.values()]);
  }
  return { provider, config, applied };
}
