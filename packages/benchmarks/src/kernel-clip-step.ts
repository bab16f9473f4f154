// The small CLIP training step (recipes/clip-shapes-pretrain.yaml: image 64, patch 8 → 65 tokens,
// width 128, 4 heads, 4 layers per tower, MLP 256, text length 32, batch 32) as one timed case for
// kernel-overrides.ts, its analytic FLOP count, and a per-kernel profile when run on its own:
//   (cd packages/benchmarks && npx tsc -b) && node packages/benchmarks/dist/kernel-clip-step.js [--stock] [--fused=all|none|adamw,layernorm,gelu]
//   node packages/benchmarks/dist/kernel-clip-step.js --compare   # each fused kernel group added in turn, side by side
//   node packages/benchmarks/dist/kernel-clip-step.js --lora      # the same step with LoRA r=8 on q_proj, v_proj (base frozen)
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs-core';
import { ClipModel } from '@mmft/arch-clip';
import { createClipLoss, clipLossConfigSchema } from '@mmft/loss-contrastive';
import { AdamW, clipGradNorm, paramEntries } from '@mmft/trainer-standard';
import { applyLora, loraConfigSchema } from '@mmft/peft-lora';
import {
  installKernelOverrides,
  removeKernelOverrides,
  resetBackendSelection,
  selectBackend,
  tfjsBackendConfigSchema,
} from '@mmft/backend-tfjs';
import {
  AdamWUpdate,
  Attention,
  AttentionGrad,
  Gelu,
  GeluGrad,
  LayerNorm,
  LayerNormGrad,
  MaskedSoftmax,
  MaskedSoftmaxGrad,
  QuickGelu,
  QuickGeluGrad,
  Linear,
  LinearGradInput,
  LinearGradWeight,
  LinearNoBias,
  Softmax,
  SoftmaxGrad,
  SumOfSquares,
} from '@mmft/core/kernels';
import { registerGradients } from '@mmft/core/nn';
import { trainStepFlops, type ClipShape } from './suite/flops';

export const SMALL_CLIP = {
  projection_dim: 128,
  text_config: {
    vocab_size: 156,
    hidden_size: 128,
    intermediate_size: 256,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    max_position_embeddings: 32,
    bos_token_id: 154,
    eos_token_id: 155,
    pad_token_id: 155,
  },
  vision_config: { image_size: 64, patch_size: 8, hidden_size: 128, intermediate_size: 256, num_hidden_layers: 4, num_attention_heads: 4 },
} as const;
export const SMALL_CLIP_BATCH = 32;
export const SMALL_CLIP_TEXT = 32;

const SHAPE: ClipShape = {
  imageSize: 64,
  patchSize: 8,
  vision: { width: 128, layers: 4, mlp: 256 },
  text: { width: 128, layers: 4, mlp: 256 },
  textLength: SMALL_CLIP_TEXT,
  projection: 128,
};

/** GEMM FLOPs of one forward pass and one full training step of the small CLIP at batch 32. */
export const SMALL_CLIP_FLOPS = trainStepFlops(SHAPE, SMALL_CLIP_BATCH, { vision: 'trained', text: 'trained' });

/**
 * A kept model, loss, optimizer and batch; `step()` runs one optimizer step as the trainer does.
 * With `lora`, LoRA r=8 (alpha 8) on q_proj and v_proj, and only the adapters train.
 */
export function smallClipStep(options: { lora?: boolean } = {}): { step: () => tf.Tensor[]; dispose: () => void } {
  const model = ClipModel.fromConfig(SMALL_CLIP as never, { seed: 0 });
  if (options.lora)
    applyLora(model.root, loraConfigSchema.parse({ r: 8, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], seed: 0 }), 'default');
  const loss = createClipLoss(clipLossConfigSchema.parse({}));
  const params = paramEntries([{ prefix: '', root: model.root, params: model.root.namedParameters() }], []);
  const optimizer = new AdamW(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 });
  const [B, T, S] = [SMALL_CLIP_BATCH, SMALL_CLIP_TEXT, 64];
  const pixelValues = tf.keep(tf.randomUniform([B, 3, S, S], -1, 1, 'float32', 1));
  const ids = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const eos = 8 + ((13 * b) % (T - 9));
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = t === 0 ? 154 : t < eos ? 1 + ((b * 7919 + t * 104729) % 153) : t === eos ? 155 : 0;
      mask[b * T + t] = t <= eos ? 1 : 0;
    }
  }
  const inputIds = tf.keep(tf.tensor2d(ids, [B, T], 'int32'));
  const attentionMask = tf.keep(tf.tensor2d(mask, [B, T], 'int32'));
  const batch = { inputs: { pixelValues, inputIds, attentionMask }, examples: [] };
  const varList = params.map((p) => p.variable);
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name] as const));
  const step = (): tf.Tensor[] => {
    const { value, grads } = tf.variableGrads(() => {
      const outputs: Record<string, tf.Tensor> = { ...model.forward(batch.inputs) };
      if (model.root.hasParam('logit_scale')) outputs.logitScale = tf.clone(model.root.param('logit_scale'));
      return loss.compute(outputs, batch);
    }, varList);
    const named = new Map(Object.entries(grads).map(([n, g]) => [nameOf.get(n)!, g] as const));
    const clipped = tf.tidy(() => {
      const c = clipGradNorm(named, 1.0);
      return { norm: c.totalNorm, grads: Object.fromEntries(c.clipped) };
    });
    optimizer.step(new Map(Object.entries(clipped.grads)), 1e-4);
    tf.dispose([...named.values(), ...Object.values(clipped.grads)]);
    return [value, clipped.norm];
  };
  return {
    step,
    dispose: () => {
      optimizer.dispose();
      tf.dispose([pixelValues, inputIds, attentionMask]);
      model.root.dispose();
    },
  };
}

/** The fused kernels by group, in the order they were added (docs/backends.md). */
const FUSED_GROUPS: Readonly<Record<string, readonly string[]>> = {
  adamw: [AdamWUpdate],
  layernorm: [LayerNorm, LayerNormGrad],
  gelu: [QuickGelu, QuickGeluGrad, Gelu, GeluGrad],
  softmax: [Softmax, SoftmaxGrad, MaskedSoftmax, MaskedSoftmaxGrad],
  attention: [Attention, AttentionGrad],
  linear: [Linear, LinearNoBias, LinearGradInput, LinearGradWeight],
  norm: [SumOfSquares],
};

function fusedOption(arg: string | undefined): boolean | string[] {
  if (arg === undefined || arg === 'all') return true;
  if (arg === 'none') return false;
  return arg.split(',').flatMap((group) => {
    const names = FUSED_GROUPS[group];
    if (!names) throw new Error(`--fused: unknown group "${group}"; known: all, none, ${Object.keys(FUSED_GROUPS).join(', ')}`);
    return [...names];
  });
}

type Kernels = Awaited<ReturnType<typeof tf.profile>>['kernels'];

/** Median step time of 5 runs after 2 warm-ups, and the kernels one step launches. */
async function measure(step: () => tf.Tensor[]): Promise<{ median: number; kernels: Kernels }> {
  for (let i = 0; i < 2; i++) tf.dispose(step());
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const out = step();
    await Promise.all(out.map((t) => t.data()));
    times.push(performance.now() - t0);
    tf.dispose(out);
  }
  times.sort((a, b) => a - b);
  const info = await tf.profile(() => step());
  return { median: times[2]!, kernels: info.kernels };
}

const kernelMs = (kernels: Kernels): number => kernels.reduce((n, k) => n + (Number(k.kernelTimeMs) || 0), 0);

/**
 * Each fused group added in turn on one model, one process: kernels and step time side by side.
 * Settings alternate over 4 rounds (forward, backward order) and each reports its median round,
 * so drift in the machine's load spreads over all of them. The native-only kernels (quick_gelu,
 * softmax, attention) are installed only where the addon is built.
 */
async function compare(step: () => tf.Tensor[]): Promise<void> {
  const settings: Array<[string, boolean | string[]]> = [
    ['overrides, no fused kernels', false],
    ['+ fused AdamW', fusedOption('adamw')],
    ['+ fused LayerNorm', fusedOption('adamw,layernorm')],
    ['+ native quick_gelu', fusedOption('adamw,layernorm,gelu')],
    ['+ native softmax', fusedOption('adamw,layernorm,gelu,softmax')],
    ['+ native attention core', fusedOption('adamw,layernorm,gelu,softmax,attention')],
    ['+ native Linear', fusedOption('adamw,layernorm,gelu,softmax,attention,linear')],
    ['+ native gradient norm', fusedOption('adamw,layernorm,gelu,softmax,attention,linear,norm')],
  ];
  const results = settings.map(() => ({ medians: [] as number[], kernels: 0, kernelMs: [] as number[] }));
  for (let round = 0; round < 4; round++) {
    const order = round % 2 === 0 ? [...settings.keys()] : [...settings.keys()].reverse();
    for (const i of order) {
      installKernelOverrides('wasm', { fused: settings[i]![1] });
      const { median, kernels } = await measure(step);
      results[i]!.medians.push(median);
      results[i]!.kernelMs.push(kernelMs(kernels));
      results[i]!.kernels = kernels.length;
    }
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log('| setting | kernels | kernel ms | step ms (median of rounds) | step ms, each round |\n|---|---:|---:|---:|---|');
  for (const [i, [label]] of settings.entries()) {
    const r = results[i]!;
    console.log(
      `| ${label} | ${r.kernels} | ${mid(r.kernelMs).toFixed(1)} | ${mid(r.medians).toFixed(1)} | ${r.medians.map((m) => m.toFixed(0)).join(', ')} |`,
    );
  }
}

async function profile(): Promise<void> {
  resetBackendSelection();
  await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
  registerGradients();
  const fusedArg = process.argv.find((a) => a.startsWith('--fused='))?.slice('--fused='.length);
  if (process.argv.includes('--stock')) removeKernelOverrides();
  else installKernelOverrides('wasm', { fused: fusedOption(fusedArg) });
  const { step } = smallClipStep({ lora: process.argv.includes('--lora') });
  if (process.argv.includes('--compare')) return compare(step);
  const { median, kernels } = await measure(step);
  const byName = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls++;
    byName.set(k.name, entry);
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('×')}`;
    const s = byShape.get(key) ?? { ms: 0, calls: 0 };
    s.ms += ms;
    s.calls++;
    byShape.set(key, s);
  }
  console.log(
    `step median ${median.toFixed(1)} ms; kernels ${kernels.length}, kernel time ${kernelMs(kernels).toFixed(1)} ms; GEMM FLOPs ${(SMALL_CLIP_FLOPS.step / 1e9).toFixed(2)} G`,
  );
  for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
    console.log(`${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls`);
  console.log('--- by shape');
  for (const [name, e] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40))
    console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(4)}  ${name}`);
}

if (require.main === module) {
  profile().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
