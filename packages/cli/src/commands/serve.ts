// `mmft serve <model-dir> [--model name=dir ...]`: an OpenAI-compatible server (@mmft/serve) over
// models loaded with tfjs. A model folder that holds v1/, v2/, ... serves its highest version (the
// version shows in GET /v1/models and the mmft_model_info metric), so a new fine-tune is deployed by
// adding a folder and rolled back by removing it; `POST /admin/reload` (loopback only) re-reads the
// folders and swaps versions without a restart. Output filters come from the registry's `filter`
// plugins (`--filter blocklist:FILE[:redact]`). SIGTERM / SIGINT finish in-flight requests, then exit.
// A folder written by `mmft export onnx` is served by onnxruntime-node (OnnxEngine), any other by tfjs;
// `--engine tfjs|onnx` overrides the choice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { MmftError, parseConfig, type OutputFilter, type PluginRegistry } from '@mmft/core';
import {
  createServer,
  detectOnnxExport,
  installSignalHandlers,
  OnnxEngine,
  TfjsEngine,
  type InferenceEngine,
  type ServedModel,
  type ServeLimits,
} from '@mmft/serve';
import type { CliContext } from '../context';

export interface ServeCliOptions {
  model?: string[];
  adapter?: string;
  port?: number;
  host?: string;
  ui?: boolean;
  filter?: string[];
  maxTokensCap?: number;
  queue?: number;
  concurrency?: number;
  timeoutMs?: number;
  bodyLimit?: number;
  plugin?: string[];
  engine?: 'tfjs' | 'onnx';
}

/**
 * The runtime for a folder: `requested`, else onnx when the folder holds an ONNX export (model.onnx,
 * onnx/decoder_model_merged.onnx, text_model.onnx + vision_model.onnx), else tfjs.
 *
 * @example
 * await chooseEngine('out/llama-onnx'); // 'onnx'
 */
export async function chooseEngine(dir: string, requested?: 'tfjs' | 'onnx'): Promise<'tfjs' | 'onnx'> {
  return requested ?? ((await detectOnnxExport(dir)) ? 'onnx' : 'tfjs');
}

async function loadEngine(
  dir: string,
  registry: PluginRegistry,
  o: ServeCliOptions,
  adapter: string | undefined,
): Promise<InferenceEngine> {
  if ((await chooseEngine(dir, o.engine)) === 'tfjs') return TfjsEngine.load(dir, registry, { adapter });
  if (adapter)
    throw new MmftError('E_INPUT', `--adapter ${adapter}: ${dir} is an ONNX export, whose weights are fixed at export`, {
      hint: `merge the adapter at export (mmft export onnx <model-dir> --adapter ${adapter} --out DIR), or serve the checkpoint with --engine tfjs`,
    });
  return OnnxEngine.load(dir);
}

/**
 * The folder to load and its version: `dir` itself when it holds config.json, else its highest `v<N>/` subfolder.
 *
 * @example
 * versionedDir('runs/shapes'); // { dir: 'runs/shapes/v3', version: 'v3' } when v1..v3 exist
 */
export function versionedDir(dir: string): { dir: string; version: string } {
  if (fs.existsSync(path.join(dir, 'config.json'))) return { dir, version: path.basename(dir) };
  const versions = fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        // A version may be a symlink to a run's output folder.
        .filter((e) => /^v\d+$/.test(e.name) && fs.existsSync(path.join(dir, e.name, 'config.json')))
        .map((e) => e.name)
        .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
    : [];
  const latest = versions.pop();
  if (!latest)
    throw new MmftError('E_CHECKPOINT', `${dir}: no config.json, and no version folders v1/, v2/, ... holding one`, {
      hint: 'pass a model folder (config.json, model.safetensors, tokenizer.json) or a folder of versions v1/, v2/, ...',
    });
  return { dir: path.join(dir, latest), version: latest };
}

/** `name=dir` of --model. */
export function parseModelSpec(spec: string): { name: string; dir: string } {
  const at = spec.indexOf('=');
  const name = spec.slice(0, at);
  if (at <= 0 || at === spec.length - 1 || !/^[A-Za-z0-9._:-]+$/.test(name))
    throw new MmftError('E_INPUT', `--model ${spec}: write name=dir (name: letters, digits, . _ : -)`, {
      hint: 'e.g. --model shapes=runs/llava-shapes',
    });
  return { name, dir: spec.slice(at + 1) };
}

/** `id:FILE[:mode]` of --filter, as the provider's config `{ file, mode }`. */
export function parseFilterSpec(spec: string): { id: string; config: Record<string, unknown> } {
  const at = spec.indexOf(':');
  if (at <= 0)
    throw new MmftError('E_INPUT', `--filter ${spec}: write <filter>:FILE[:redact]`, {
      hint: 'e.g. --filter blocklist:blocked.txt:redact',
    });
  const id = spec.slice(0, at);
  let file = spec.slice(at + 1);
  const mode = /:(refuse|redact)$/.exec(file);
  if (mode) file = file.slice(0, -mode[0].length);
  return { id, config: { file, ...(mode ? { mode: mode[1] } : {}) } };
}

function filtersOf(ctx: CliContext, registry: PluginRegistry, specs: readonly string[]): OutputFilter[] {
  return specs.map((spec) => {
    const { id, config } = parseFilterSpec(spec);
    const provider = registry.resolve('filter', id);
    return provider.create(parseConfig(provider, { ...config, file: path.resolve(ctx.cwd, String(config.file)) }, `--filter ${spec}`));
  });
}

/** Loads the models, starts the server and resolves when it has closed (after SIGTERM / SIGINT). */
export async function runServe(ctx: CliContext, modelDir: string | undefined, o: ServeCliOptions): Promise<void> {
  const specs = [...(modelDir ? [{ name: '', dir: modelDir }] : []), ...(o.model ?? []).map(parseModelSpec)];
  if (specs.length === 0)
    throw new MmftError('E_INPUT', 'mmft serve: give a model folder, or --model name=dir', { hint: 'mmft serve models/llava-shapes-base' });
  const registry = await ctx.createRegistry(o.plugin ?? []);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  const filters = filtersOf(ctx, registry, o.filter ?? []);
  const adapter = o.adapter ? path.resolve(ctx.cwd, o.adapter) : undefined;
  const roots = specs.map((spec) => ({
    root: path.resolve(ctx.cwd, spec.dir),
    name: spec.name || path.basename(path.resolve(ctx.cwd, spec.dir)),
  }));
  // Each folder's current version; a model whose version is already served keeps its engine.
  const load = async (current: readonly ServedModel[]): Promise<ServedModel[]> => {
    const next: ServedModel[] = [];
    const fresh: ServedModel[] = [];
    try {
      for (const { root, name } of roots) {
        const { dir, version } = versionedDir(root);
        const same = current.find((m) => m.name === name && m.version === version);
        if (same) next.push(same);
        else {
          const served = { name, version, engine: await loadEngine(dir, registry, o, adapter) };
          fresh.push(served);
          next.push(served);
        }
      }
    } catch (error) {
      await Promise.all(fresh.map((m) => m.engine.close()));
      throw error;
    }
    return next;
  };
  const models = await load([]);
  const limits: Partial<ServeLimits> = {
    maxTokensCap: o.maxTokensCap,
    queueSize: o.queue,
    concurrency: o.concurrency,
    requestTimeoutMs: o.timeoutMs,
    bodyLimit: o.bodyLimit,
  };
  const app = await createServer({ models, limits, filters, ui: o.ui, reload: load });
  const closed = new Promise<void>((resolve) => app.addHook('onClose', async () => resolve()));
  const host = o.host ?? '127.0.0.1';
  const address = await app.listen({ host, port: o.port ?? 8000 });
  const remove = installSignalHandlers(app, (code) => {
    if (code !== 0) process.exit(code);
  });
  ctx.print(
    `mmft serve: ${models.map((m) => `${m.name} (${m.version}, ${m.engine.kind}${m.engine instanceof OnnxEngine ? ', onnx' : ''})`).join(', ')} at ${address}${o.ui ? ' (web demo at /)' : ''}`,
  );
  await closed;
  remove();
}

const int = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The `serve` command.
 *
 * @example
 * program.addCommand(serveCommand(ctx)); // mmft serve models/llava-shapes-base --ui
 */
export function serveCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('Serve models over an OpenAI-compatible HTTP API (chat completions, embeddings), with limits, metrics and filters')
    .argument('[model-dir]', 'a model folder, or a folder of versions v1/, v2/, ... (the highest is served)')
    .option('--model <name=dir>', 'serve another model under a name (repeatable)', collect, [])
    .option('--adapter <dir>', 'a PEFT adapter folder to apply to the models')
    .option('--port <n>', 'port (0: any free port)', int('--port', 0), 8000)
    .option('--host <address>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--ui', 'serve the web demo page at /')
    .option(
      '--filter <id:file[:mode]>',
      'an output filter, e.g. blocklist:blocked.txt or blocklist:blocked.txt:redact (repeatable)',
      collect,
      [],
    )
    .option('--max-tokens-cap <n>', 'most new tokens per request, and the default (256)', int('--max-tokens-cap', 1))
    .option('--queue <n>', 'requests that may wait for the engine (16); more get 429 + Retry-After', int('--queue', 0))
    .option('--concurrency <n>', 'requests the engine runs at once (1)', int('--concurrency', 1))
    .option('--timeout-ms <n>', 'per-request deadline from arrival, queueing included (60000); 504 beyond', int('--timeout-ms', 1))
    .option('--body-limit <bytes>', 'largest request body (16 MiB); 413 beyond', int('--body-limit', 1))
    .option('--plugin <specifier...>', 'load extra plugin packages (architectures, filters)')
    .option(
      '--engine <tfjs|onnx>',
      'runtime: onnx (onnxruntime-node) for a folder from mmft export onnx, tfjs otherwise (default: by the folder)',
      (v: string) => {
        if (v !== 'tfjs' && v !== 'onnx') throw new InvalidArgumentError(`--engine takes tfjs or onnx, got "${v}"`);
        return v;
      },
    )
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .action((modelDir: string | undefined, o: ServeCliOptions) => runServe(ctx, modelDir, o));
}
