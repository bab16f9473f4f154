// The mmft side of a `runtime: onnxruntime` row: the experiment's model, built from config exactly
// as the tfjs row builds it, exported with @mmft/exporter-onnx (`exportOnnx`, as `mmft export onnx`
// writes it) and run by onnxruntime-node on the CPU execution provider, on the same synthetic inputs
// and with the same timing rule as its tfjs sibling:
//   embed: vision_model.onnx (pixel_values → image_embeds), L2-normalised and on the host (run-embed.ts);
//   embed-text: text_model.onnx (input_ids, attention_mask → text_embeds), L2-normalised (run-embed-text.ts);
//   prefill / decode: model.onnx through the exporter's greedyDecodeOnnx with its KV cache, greedy, no
//     EOS; each step's logits callback is a timestamp, so a decode sample is the gap between two steps
//     and a prefill sample the time to the first step's logits (run-generate.ts).
// Threads: onnxruntime's intra-op pool is set like the peer's settings (suite/run-suite.ts): all cores
// (= the native kernels' GEMM pool, packages/native-kernels/src/index.ts) and 1, one session each, the
// faster counts, both are recorded. Inter-op 1, sequential execution, graph optimisation 'all'
// (the option names: microsoft/onnxruntime js/common/lib/inference-session.ts, SessionOptions; the
// threading model and defaults: microsoft/onnxruntime docs/performance/tune-performance/threading.md).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ProviderResolver } from '@mmft/core';
import { exportOnnx, greedyDecodeOnnx } from '@mmft/exporter-onnx';
import { sectionOf, type Experiment } from '../suite/experiment';
import { clipShapeOf, trainStepFlops } from '../suite/flops';
import { lmDecodeStepFlops, lmPrefillFlops, lmShapeOf } from '../suite/lm-flops';
import type { SideResult, Timing } from '../suite/result';
import { summarize } from '../suite/stats';
import { buildModel, selectEngine } from './build-run';
import { lmPromptIds, lmSpecOf } from './lm-synthetic';
import { textEmbedFlops } from './run-embed-text';
import { modelConfigOf, POOL_BATCHES, syntheticPixels, syntheticSpecOf, syntheticText } from './synthetic';

/** An open onnxruntime-node session, typed through the exporter's own signature. */
export type OrtSession = Exclude<Parameters<typeof greedyDecodeOnnx>[0], string>;
type OrtTensor = Parameters<OrtSession['run']>[0][string];

/** The part of onnxruntime-node this file uses. */
interface OrtRuntime {
  readonly InferenceSession: { create(file: string, options: Record<string, unknown>): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
  readonly env: { readonly versions?: { readonly node?: string; readonly common?: string } };
}

let runtime: OrtRuntime | undefined;

/**
 * onnxruntime-node as the exporter loads it: it is @mmft/exporter-onnx's dependency, so resolving it
 * from there gives the one copy (and native library) whose sessions greedyDecodeOnnx drives.
 */
export function loadOrt(): OrtRuntime {
  return (runtime ??= createRequire(require.resolve('@mmft/exporter-onnx'))('onnxruntime-node') as OrtRuntime);
}

/** Intra-op thread counts an onnxruntime row runs with, in order: all cores, then 1 (the peer's default settings). */
export function ortThreadSettings(): number[] {
  return [...new Set([os.availableParallelism(), 1])];
}

/** Session options of one thread setting. */
export function ortSessionOptions(threads: number): Record<string, unknown> {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

/** Rows of `data` ([rows, width] row-major) divided by their Euclidean norm (CLIPModel's *_embeds), at least 1e-12 as torch's F.normalize. */
export function normalizeRows(data: Float32Array, width: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / width; r++) {
    let sum = 0;
    for (let i = r * width; i < (r + 1) * width; i++) sum += data[i]! * data[i]!;
    const inv = 1 / Math.max(Math.sqrt(sum), 1e-12);
    for (let i = r * width; i < (r + 1) * width; i++) out[i] = data[i]! * inv;
  }
  return out;
}

/** What timed passes of an embedding graph measured, and the last pass's embeddings (normalised, host). */
export interface EmbedPasses {
  readonly times: number[];
  readonly embeds: Float32Array;
  readonly dims: readonly number[];
}

/**
 * `warmup + timed` passes of `session` over the feeds of `pool` (cycled), each timed from the call to
 * its normalised embeddings on the host; only the timed passes are returned.
 */
export async function embedPasses(
  session: OrtSession,
  pool: ReadonlyArray<Record<string, OrtTensor>>,
  output: 'image_embeds' | 'text_embeds',
  warmup: number,
  timed: number,
): Promise<EmbedPasses> {
  const times: number[] = [];
  let embeds: Float32Array = new Float32Array(0);
  let dims: readonly number[] = [];
  for (let pass = 0; pass < warmup + timed; pass++) {
    const start = performance.now();
    const out = (await session.run(pool[pass % pool.length]!))[output];
    if (!out) throw new MmftError('E_CHECKPOINT', `the exported graph has no output ${output}`);
    dims = out.dims;
    embeds = normalizeRows(out.data as Float32Array, dims[dims.length - 1]!);
    if (pass >= warmup) times.push(performance.now() - start);
  }
  return { times, embeds, dims };
}

/** What timed generations through the decoder measured, and the last pass's new ids per row. */
export interface DecodePasses {
  readonly samples: number[];
  readonly tokens: number[][];
}

/**
 * `warmup + timed` greedy generations of `newTokens` ids after `prompt` through the exported decoder
 * (greedyDecodeOnnx on the open session, no EOS). Prefill samples: call → first logits, one per pass;
 * decode samples: the gaps between consecutive steps' logits, newTokens − 1 per pass.
 */
export async function decodePasses(
  session: OrtSession,
  prompt: ReadonlyArray<readonly number[]>,
  newTokens: number,
  mode: 'prefill' | 'decode',
  warmup: number,
  timed: number,
): Promise<DecodePasses> {
  const samples: number[] = [];
  let tokens: number[][] = [];
  for (let pass = 0; pass < warmup + timed; pass++) {
    const stamps: number[] = [];
    const start = performance.now();
    tokens = await greedyDecodeOnnx(session, prompt, newTokens, undefined, { onLogits: () => stamps.push(performance.now()) });
    const produced = tokens.reduce((n, row) => n + row.length, 0);
    if (produced !== prompt.length * newTokens || stamps.length !== newTokens) {
      throw new MmftError(
        'E_BACKEND',
        `onnxruntime decode returned ${produced} tokens in ${stamps.length} steps, expected ${prompt.length} × ${newTokens}`,
      );
    }
    if (pass < warmup) continue;
    if (mode === 'prefill') samples.push(stamps[0]! - start);
    else for (let i = 1; i < stamps.length; i++) samples.push(stamps[i]! - stamps[i - 1]!);
  }
  return { samples, tokens };
}

const int64 = (values: Int32Array, dims: readonly number[]) => new (loadOrt().Tensor)('int64', BigInt64Array.from(values, BigInt), dims);

/** The graph a kind runs, and how one thread setting is measured on it (times in ms). */
interface OnnxPlan {
  readonly file: string;
  readonly measure: (session: OrtSession) => Promise<number[]>;
  readonly items: number;
  readonly unit: SideResult['unit'];
  readonly flops: number;
}

function clipPlan(experiment: Experiment): OnnxPlan {
  const { bench } = experiment;
  const batch = bench.batch_size ?? 32;
  const config = modelConfigOf(experiment);
  const spec = syntheticSpecOf(config, batch, bench.text_length);
  const shape = clipShapeOf(config, bench.text_length);
  if (bench.kind === 'embed') {
    const dims = [batch, 3, spec.imageSize, spec.imageSize];
    const pool = Array.from({ length: POOL_BATCHES }, (_, k) => ({
      pixel_values: new (loadOrt().Tensor)('float32', syntheticPixels(spec, k), dims),
    }));
    // The same count as run-embed.ts: the vision tower of a model whose text tower is 0 layers wide.
    const visionOnly = { ...shape, text: { ...shape.text, layers: 0 }, textLength: 0 };
    return {
      file: 'vision_model.onnx',
      measure: async (session) => (await embedPasses(session, pool, 'image_embeds', bench.warmup_steps, bench.timed_steps)).times,
      items: batch,
      unit: 'images/s',
      flops: trainStepFlops(visionOnly, batch, { vision: 'frozen', text: 'frozen' }).forward,
    };
  }
  const dims = [batch, spec.textLength];
  const pool = Array.from({ length: POOL_BATCHES }, (_, k) => {
    const { ids, mask } = syntheticText(spec, k);
    return { input_ids: int64(ids, dims), attention_mask: int64(mask, dims) };
  });
  return {
    file: 'text_model.onnx',
    measure: async (session) => (await embedPasses(session, pool, 'text_embeds', bench.warmup_steps, bench.timed_steps)).times,
    items: batch,
    unit: 'texts/s',
    flops: textEmbedFlops(shape, batch),
  };
}

function lmPlan(experiment: Experiment): OnnxPlan {
  const { bench } = experiment;
  const prefill = bench.kind === 'prefill';
  const batch = bench.batch_size ?? 1;
  const length = bench.text_length;
  const config = modelConfigOf(experiment);
  const flat = lmPromptIds(lmSpecOf(config, batch, length));
  const prompt = Array.from({ length: batch }, (_, b) => Array.from(flat.subarray(b * length, (b + 1) * length)));
  const newTokens = prefill ? 1 : bench.new_tokens;
  const shape = lmShapeOf(sectionOf(experiment, 'model')!.id, config);
  return {
    file: 'model.onnx',
    measure: async (session) =>
      (await decodePasses(session, prompt, newTokens, prefill ? 'prefill' : 'decode', bench.warmup_steps, bench.timed_steps)).samples,
    items: batch * (prefill ? length : 1),
    unit: 'tokens/s',
    // As run-generate.ts: the median decode step sits half-way through the new tokens.
    flops: prefill ? lmPrefillFlops(shape, batch, length) : lmDecodeStepFlops(shape, batch, length + newTokens / 2),
  };
}

/** One thread setting's result, kept in the side's engine record. */
export interface OrtThreadRun {
  readonly threads: number;
  readonly throughput: number;
  readonly timing: Timing;
}

/**
 * Export the experiment's model to a temporary folder and measure it in onnxruntime-node at every
 * thread setting of `threads` (default ortThreadSettings()); the fastest setting is the result.
 *
 * @example
 * const result = await runOnnxRuntime(experiment, registry);
 */
export async function runOnnxRuntime(
  experiment: Experiment,
  resolver: ProviderResolver,
  threads: readonly number[] = ortThreadSettings(),
): Promise<SideResult> {
  const { kind } = experiment.bench;
  const plan =
    kind === 'embed' || kind === 'embed-text'
      ? clipPlan(experiment)
      : kind === 'prefill' || kind === 'decode'
        ? lmPlan(experiment)
        : undefined;
  if (!plan) throw new MmftError('E_CONFIG', `${experiment.file}: runtime onnxruntime has no graph for kind ${kind}`);
  // tfjs builds the model (same config and seed as the tfjs row) only to export it; the weights are dropped before timing.
  await selectEngine(experiment, resolver);
  const model = await buildModel(experiment, resolver);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mmft-bench-onnx-${experiment.name}-`));
  const runs: OrtThreadRun[] = [];
  try {
    try {
      await exportOnnx(model, dir);
    } finally {
      model.dispose();
    }
    for (const n of threads) {
      const session = await loadOrt().InferenceSession.create(path.join(dir, plan.file), ortSessionOptions(n));
      try {
        const timing = summarize(await plan.measure(session));
        runs.push({ threads: n, throughput: (1000 * plan.items) / timing.medianMs, timing });
      } finally {
        await session.release();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const best = runs.reduce((a, b) => (b.throughput > a.throughput ? b : a));
  const ort = loadOrt();
  return {
    side: 'mmft',
    throughput: best.throughput,
    unit: plan.unit,
    timing: best.timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: {
      name: 'onnxruntime-node',
      version: ort.env.versions?.node ?? ort.env.versions?.common,
      executionProvider: 'cpu',
      graph: plan.file,
      threads: best.threads,
      interOpThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      threadRuns: runs,
      tfjs: tf.version_core,
    },
    flops: plan.flops,
    note: `onnxruntime-node, intra-op threads ${runs.map((r) => `${r.threads}: ${r.throughput.toPrecision(3)} ${plan.unit}`).join(', ')}`,
  };
}
