// The checks `mmft import` runs before it writes anything: the base an adapter belongs to, and that
// the adapter (or a full checkpoint) loads into mmft's model through the registry with every tensor
// landing. Adapters load as `mmft merge` / `mmft export onnx` load them (commands/merge.ts): the
// model's checkpointKeyName renames transformers ≥ 4.52 module paths (model.language_model.…) to the
// tree's, and core's loadAdapter refuses unknown, missing or mis-shaped keys by name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { architectureContext, describeTrainable, loadAdapter, MmftError, parseConfig, type PluginRegistry } from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import type { EngineReport } from './engine';

/** Where the base came from. */
export interface ResolvedBase {
  readonly dir: string;
  /** "--base", "mmft-handoff.json", "adapter_config.json base_model_name_or_path" or "args.json model". */
  readonly from: string;
}

const isModelFolder = (dir: string) => fs.existsSync(path.join(dir, 'config.json'));

/**
 * The base model folder for an adapter: `--base`, else the bundle manifest's model.localPath, else
 * the engine's own record (adapter_config.json base_model_name_or_path, ms-swift args.json model) when
 * it names a local folder (relative paths resolve against the bundle, where the engine ran, then cwd).
 */
export function resolveBase(o: {
  base?: string;
  cwd: string;
  adapterDir: string;
  adapterConfig: Record<string, unknown>;
  engine: EngineReport;
}): ResolvedBase {
  if (o.base) {
    const dir = path.resolve(o.cwd, o.base);
    if (!isModelFolder(dir))
      throw new MmftError('E_INPUT', `--base ${o.base}: no config.json in ${dir}`, {
        hint: 'give the base model folder the adapter was trained on',
      });
    return { dir, from: '--base' };
  }
  const manifest = o.engine.manifest;
  const roots = [...(manifest ? [path.dirname(manifest.file)] : []), o.cwd];
  const candidates: { path?: string; from: string }[] = [
    { path: manifest?.modelLocalPath, from: 'mmft-handoff.json model.localPath' },
    {
      path: typeof o.adapterConfig.base_model_name_or_path === 'string' ? o.adapterConfig.base_model_name_or_path : undefined,
      from: 'adapter_config.json base_model_name_or_path',
    },
    { path: o.engine.swiftModel, from: 'args.json model' },
  ];
  for (const c of candidates) {
    if (!c.path) continue;
    for (const root of path.isAbsolute(c.path) ? [''] : roots) {
      const dir = path.resolve(root, c.path);
      if (isModelFolder(dir)) return { dir, from: c.from };
    }
  }
  const named = candidates.filter((c) => c.path).map((c) => `${c.from} = ${c.path}`);
  throw new MmftError(
    'E_INPUT',
    `${o.adapterDir}: cannot find the base model this adapter belongs to${named.length ? ` (${named.join('; ')}: not a local model folder)` : ''}`,
    {
      hint:
        'pass --base <model-dir>; or import from inside the bundle `mmft handoff` wrote (its mmft-handoff.json names the base); ' +
        'or make adapter_config.json base_model_name_or_path a local model folder',
    },
  );
}

/** What the adapter check found. */
export interface AdapterCheck {
  readonly modelType: string;
  readonly method: string;
  readonly tensors: number;
  /** Values in adapter_model.safetensors (LoRA A/B and modules_to_save copies). */
  readonly adapterParameters: number;
  /** The model's trainable parameters with the adapter on (describeTrainable). */
  readonly trainable: number;
  readonly total: number;
  readonly line: string;
  /** Tensor count per safetensors dtype ("BF16": 34). */
  readonly dtypes: Readonly<Record<string, number>>;
}

async function selectBackend(registry: PluginRegistry): Promise<void> {
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
}

async function loadBase(registry: PluginRegistry, base: string) {
  const modelType = await readModelType(base);
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(base, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  return { modelType, model: await architecture.fromPretrained(base, {}, architectureContext(registry)) };
}

/** The header's tensors (dtype and shape) of a safetensors file; the loaders have validated it already. */
export function headerTensors(file: string): { name: string; dtype: string; shape: number[] }[] {
  const fd = fs.openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    fs.readSync(fd, prefix, 0, 8, 0);
    const length = Number(prefix.readBigUInt64LE(0));
    const json = Buffer.alloc(length);
    fs.readSync(fd, json, 0, length, 8);
    const header = JSON.parse(json.toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
    return Object.entries(header)
      .filter(([name]) => name !== '__metadata__')
      .map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  } finally {
    fs.closeSync(fd);
  }
}

/** Tensor count and values per dtype of safetensors files. */
export function tensorStats(files: readonly string[]): { tensors: number; values: number; dtypes: Record<string, number> } {
  const dtypes: Record<string, number> = {};
  let tensors = 0;
  let values = 0;
  for (const file of files) {
    for (const t of headerTensors(file)) {
      tensors++;
      values += t.shape.reduce((a, b) => a * b, 1);
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    }
  }
  return { tensors, values, dtypes };
}

/** Loads `base` and the adapter in `adapterDir` onto it; every tensor must land. */
export async function checkAdapter(registry: PluginRegistry, base: string, adapterDir: string): Promise<AdapterCheck> {
  await selectBackend(registry);
  const { modelType, model } = await loadBase(registry, base);
  try {
    const { provider } = await loadAdapter(adapterDir, model.root, registry.list('peft'), {
      renameKey: model.checkpointKeyName?.bind(model),
    });
    const stats = tensorStats([path.join(adapterDir, 'adapter_model.safetensors')]);
    const summary = describeTrainable(model.root);
    return {
      modelType,
      method: provider.id,
      tensors: stats.tensors,
      adapterParameters: stats.values,
      trainable: summary.trainable,
      total: summary.total,
      line: summary.line,
      dtypes: stats.dtypes,
    };
  } finally {
    model.dispose();
  }
}

/** What the full-checkpoint check found. */
export interface ModelCheck {
  readonly modelType: string;
  readonly parameters: number;
  readonly tensors: number;
  readonly dtypes: Readonly<Record<string, number>>;
}

/** Loads the checkpoint folder `dir` through the registry. */
export async function checkModel(registry: PluginRegistry, dir: string, weightFiles: readonly string[]): Promise<ModelCheck> {
  await selectBackend(registry);
  const { modelType, model } = await loadBase(registry, dir);
  try {
    const stats = tensorStats(weightFiles);
    return { modelType, parameters: model.root.parameterCount(), tensors: stats.tensors, dtypes: stats.dtypes };
  } finally {
    model.dispose();
  }
}
