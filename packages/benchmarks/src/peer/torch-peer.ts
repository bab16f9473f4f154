// Runs python/torch_peer.py for one experiment in its own python3 process, in the fair
// thread setting of docs/facts.md §3: torch.set_num_threads(threads) with OPENBLAS_NUM_THREADS=1 (OpenMP and OpenBLAS
// each spawning `threads` threads oversubscribes the cores). The spec carries the validated model
// config and train settings, so both sides train the same shapes with the same optimizer.
import * as path from 'node:path';
import { BLIP2_TOWERS } from '@mmft/arch-blip2';
import { LLAVA_TOWERS } from '@mmft/arch-llava';
import { expandTowers, MmftError } from '@mmft/core';
import { trainConfigSchema } from '@mmft/trainer-standard';
import { lmSpecOf } from '../child/lm-synthetic';
import { memorySettingsOf } from '../child/memory-settings';
import { modelConfigOf, POOL_BATCHES, syntheticSpecOf } from '../child/synthetic';
import { loraTargetsOf } from '../child/run-vlm';
import { vlmSpecOfModel } from '../child/vlm-synthetic';
import { isLmExperiment, isVisionLmExperiment, sectionOf, type Experiment } from '../suite/experiment';
import type { GemmCeiling, SideResult } from '../suite/result';
import { filledBlip2Config, filledLlavaConfig } from '../suite/vlm-config';
import { runChild } from '../suite/spawn';

/** The harness shipped with this package. */
export const TORCH_PEER_SCRIPT = path.resolve(__dirname, '..', '..', 'python', 'torch_peer.py');

/** Where and how the peer runs. */
export interface PeerOptions {
  /** Python with torch (default /usr/bin/python3, where Debian's python3-torch installs). */
  readonly python: string;
  readonly threads: number;
}

/** OpenBLAS threads: 1 is the fair setting for training (docs/facts.md §3); `threads` measures the hardware ceiling. */
const env = (threads: number, blasThreads = 1) => ({
  ...process.env,
  OPENBLAS_NUM_THREADS: String(blasThreads),
  OMP_NUM_THREADS: String(threads),
  MKL_NUM_THREADS: '1',
});

async function runPeer(spec: Record<string, unknown>, options: PeerOptions, blasThreads = 1): Promise<Record<string, unknown>> {
  return runChild(
    options.python,
    [TORCH_PEER_SCRIPT, JSON.stringify({ threads: options.threads, ...spec })],
    env(options.threads, blasThreads),
  );
}

/**
 * The memory switches for the peer (python/torch_peer.py apply_memory): checkpoint block i of each stack
 * when i % checkpointEvery == 0 (0: off), and frozen Linears stored in bf16 (or f32).
 */
export function memorySpec(experiment: Experiment, train: object): { checkpointEvery: number; frozenDtype: string } {
  const { checkpointing, frozenDtype } = memorySettingsOf(train as Record<string, unknown>, experiment.file);
  const checkpointEvery = checkpointing === false ? 0 : checkpointing === true ? 1 : checkpointing.everyNBlocks;
  return { checkpointEvery, frozenDtype };
}

/** LoRA settings the peer implements (PEFT's lora.Linear without dropout or rsLoRA). */
function loraSpec(experiment: Experiment): Record<string, unknown> | undefined {
  const peft = sectionOf(experiment, 'peft');
  if (!peft) return undefined;
  if (peft.id !== 'lora') throw new MmftError('E_UNSUPPORTED', `${experiment.name}: the torch peer implements LoRA only, not ${peft.id}`);
  const { r, lora_alpha, target_modules, lora_dropout, use_rslora } = peft.settings;
  if ((lora_dropout !== undefined && lora_dropout !== 0) || use_rslora === true) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${experiment.name}: the torch peer's LoRA has no dropout and no rsLoRA scaling (peft.lora_dropout ${String(lora_dropout ?? 0)}, peft.use_rslora ${String(use_rslora ?? false)})`,
      {
        hint: 'set peft.lora_dropout: 0 and leave use_rslora false in the experiment file',
      },
    );
  }
  return { r, lora_alpha, target_modules };
}

/**
 * The harness's spec of a causal-LM experiment: the architecture and its validated config, the
 * synthetic batch (lm-synthetic.ts), the optimizer settings (train) or the decoding length.
 */
function lmPeerSpec(experiment: Experiment): Record<string, unknown> {
  const { bench } = experiment;
  const config = modelConfigOf(experiment);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  const batch = bench.kind === 'train' ? train.batch_size : (bench.batch_size ?? 1);
  return {
    mode: bench.kind === 'train' ? 'lm-train' : bench.kind,
    arch: sectionOf(experiment, 'model')?.id,
    seed: 0,
    config,
    warmup: bench.warmup_steps,
    timed: bench.timed_steps,
    profile: bench.profile,
    synthetic: lmSpecOf(config, batch, bench.text_length),
    poolBatches: POOL_BATCHES,
    newTokens: bench.kind === 'prefill' ? 1 : bench.new_tokens,
    lr: train.lr,
    betas: train.betas,
    eps: train.eps,
    weight_decay: train.weight_decay,
    maxGradNorm: train.max_grad_norm,
    lora: loraSpec(experiment),
    memory: memorySpec(experiment, train),
  };
}

/**
 * The LLaVA LoRA the peer applies: rank and alpha, the per-layer linear names of the language model
 * the target regex selects, and modules_to_save (trained fully).
 */
function vlmLoraSpec(experiment: Experiment): Record<string, unknown> | undefined {
  const lora = loraSpec(experiment);
  if (!lora) return undefined;
  const peft = sectionOf(experiment, 'peft')!;
  const targets = peft.settings.target_modules;
  if (targets === 'all-linear') {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${experiment.name}: the torch peer's LLaVA adapts the language model only; write target_modules as a regex`,
      {
        hint: "target_modules: 'language_model\\..*\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)'",
      },
    );
  }
  return { ...lora, target_modules: loraTargetsOf(experiment).targets, modules_to_save: peft.settings.modules_to_save ?? [] };
}

/**
 * The harness's spec of a vision-to-LLM experiment (BLIP-2, LLaVA): the validated config, the
 * synthetic batch (vlm-synthetic.ts), which parameters train (tower names expanded to the module
 * prefixes the peer uses, the HF ones; LLaVA's LoRA) and the optimizer (train) or the new tokens (caption).
 */
function vlmPeerSpec(experiment: Experiment): Record<string, unknown> {
  const { bench } = experiment;
  const type = sectionOf(experiment, 'model')?.id;
  const llava = type === 'llava';
  const config = llava
    ? filledLlavaConfig(modelConfigOf(experiment), experiment.file)
    : filledBlip2Config(modelConfigOf(experiment), experiment.file);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  if (!llava && sectionOf(experiment, 'peft'))
    throw new MmftError('E_UNSUPPORTED', `${experiment.name}: the torch peer's BLIP-2 trains without peft`);
  const towers = llava ? LLAVA_TOWERS : BLIP2_TOWERS;
  const caption = bench.kind === 'caption';
  const batch = caption ? (bench.batch_size ?? 1) : train.batch_size;
  return {
    mode: caption ? 'vlm-caption' : 'vlm-train',
    arch: sectionOf(experiment, 'model')?.id,
    seed: 0,
    config,
    warmup: bench.warmup_steps,
    timed: bench.timed_steps,
    profile: bench.profile,
    synthetic: vlmSpecOfModel(type, config, batch, caption ? 1 : bench.text_length, experiment.file),
    poolBatches: POOL_BATCHES,
    newTokens: bench.new_tokens,
    // Tower names as the model declares them (arch-blip2 / arch-llava processor.ts), so the peer sees parameter globs.
    freeze: expandTowers(train.freeze, towers),
    unfreeze: expandTowers(train.unfreeze, towers),
    lora: llava && !caption ? vlmLoraSpec(experiment) : undefined,
    lr: train.lr,
    betas: train.betas,
    eps: train.eps,
    weight_decay: train.weight_decay,
    maxGradNorm: train.max_grad_norm,
    memory: memorySpec(experiment, train),
  };
}

/** The harness's spec of an experiment (CLIP: full, lock-image and LoRA; causal LMs: full and LoRA, prefill, decode; BLIP-2: stage 2, caption; LLaVA: stage-2 LoRA, generation). */
export function peerSpec(experiment: Experiment): Record<string, unknown> {
  // The peer has no bitsandbytes (torch 1.13 on the CPU): it would silently train a float32 base.
  if (sectionOf(experiment, 'model')?.settings.quantization !== undefined) {
    throw new MmftError('E_UNSUPPORTED', `${experiment.name}: the torch peer has no bitsandbytes 4-bit base (model.quantization)`, {
      hint: 'set bench.peer: none on QLoRA rows; the LoRA row with a float32 base keeps its peer',
    });
  }
  if (isVisionLmExperiment(experiment)) return vlmPeerSpec(experiment);
  if (isLmExperiment(experiment)) return lmPeerSpec(experiment);
  const { bench } = experiment;
  const config = modelConfigOf(experiment);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  const loss = sectionOf(experiment, 'loss')?.settings ?? {};
  const peft = sectionOf(experiment, 'peft');
  if (peft && peft.id !== 'lora')
    throw new MmftError('E_UNSUPPORTED', `${experiment.name}: the torch peer implements LoRA only, not ${peft.id}`);
  const batch = bench.kind === 'embed' || bench.kind === 'embed-text' ? (bench.batch_size ?? 32) : train.batch_size;
  return {
    mode: bench.kind,
    seed: 0,
    config,
    warmup: bench.warmup_steps,
    timed: bench.timed_steps,
    profile: bench.profile,
    synthetic: syntheticSpecOf(config, batch, bench.text_length),
    poolBatches: POOL_BATCHES,
    lr: train.lr,
    betas: train.betas,
    eps: train.eps,
    weight_decay: train.weight_decay,
    maxGradNorm: train.max_grad_norm,
    maxLogitScale: (loss.max_logit_scale as number | undefined) ?? Math.log(100),
    strategy: train.strategy,
    lora: peft ? { r: peft.settings.r, lora_alpha: peft.settings.lora_alpha, target_modules: peft.settings.target_modules } : undefined,
    memory: memorySpec(experiment, train),
  };
}

/**
 * Train (or embed) the experiment with PyTorch; returns the peer's SideResult and torch.__config__.
 *
 * @example
 * const { result } = await runTorchPeer(experiment, { python: '/usr/bin/python3', threads: 2 });
 */
export async function runTorchPeer(experiment: Experiment, options: PeerOptions): Promise<{ result: SideResult; torchConfig: string }> {
  const raw = await runPeer(peerSpec(experiment), options);
  const { torchConfig, ...rest } = raw as { torchConfig: string } & Record<string, unknown>;
  return { result: rest as unknown as SideResult, torchConfig };
}

/**
 * GEMM GFLOP/s of torch at `sizes`: in the fair training setting (OpenBLAS 1 thread) and with
 * OpenBLAS on all `threads` (the hardware ceiling).
 */
export async function torchGemmCeiling(options: PeerOptions, sizes: readonly number[] = [512, 1024]): Promise<GemmCeiling[]> {
  const out: GemmCeiling[] = [];
  for (const blas of [...new Set([1, options.threads])]) {
    const raw = await runPeer({ mode: 'gemm', sizes }, options, blas);
    out.push(...(raw.ceilings as GemmCeiling[]).map((c) => ({ ...c, engine: `${c.engine}, OpenBLAS threads ${blas}` })));
  }
  return out;
}

/** True when `python` can import torch. */
export async function torchAvailable(python: string): Promise<boolean> {
  try {
    await runChild(python, ['-c', 'import json, torch; print("RESULT " + json.dumps({"version": torch.__version__}))'], process.env);
    return true;
  } catch {
    return false;
  }
}
