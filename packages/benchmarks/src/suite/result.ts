// The record every experiment run produces (one side: mmft or the PyTorch peer), and the shape of
// the suite's JSON file. Children print one `RESULT <json>` line; the runner collects them.
import type { MemoryRole } from './bench-config';

/** Median and spread of per-step (or per-pass) wall times, milliseconds. */
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Interquartile range relative to the median, percent. */
  readonly iqrPercent: number;
  readonly samples: number;
}

/** One kernel of a tf.profile, aggregated over the step. */
export interface KernelRow {
  readonly name: string;
  readonly calls: number;
  readonly ms: number;
  readonly percent: number;
}

/** What one side measured for one experiment. */
export interface SideResult {
  readonly side: 'mmft' | 'torch';
  /** Items per second at the median: samples (train), images (embed, data), items (metrics) or tokens (causal LMs). */
  readonly throughput: number;
  readonly unit: 'samples/s' | 'images/s' | 'texts/s' | 'items/s' | 'tokens/s' | 'GFLOP/s';
  readonly timing: Timing;
  /** Peak resident set of the child process, bytes (getrusage maxrss). */
  readonly peakRssBytes: number;
  /** Loss after warmup + timed steps (train kind). */
  readonly loss?: number;
  readonly steps?: number;
  readonly trainableParams?: number;
  readonly totalParams?: number;
  /** Peak bytes of tfjs tensors during one profiled step. */
  readonly peakTensorBytes?: number;
  /** Engine, threads and kernel overrides (mmft) or torch version, threads and BLAS (torch). */
  readonly engine: Readonly<Record<string, unknown>>;
  readonly profile?: readonly KernelRow[];
  /** GEMM FLOPs of one step / pass, counted from the shapes (suite/flops.ts). */
  readonly flops?: number;
  /** The memory switches this side ran with (train kind), as it applied them. */
  readonly memory?: AppliedMemory;
  /** The 4-bit product against the float32 one at the same shape (kernel kind). */
  readonly kernel?: KernelComparison;
  readonly note?: string;
}

/** What model.quantization did to a side's model (QLoRA), as applied and measured on its weights. */
export interface AppliedQuantization {
  readonly quantType: 'nf4' | 'fp4';
  readonly blockSize: number;
  readonly doubleQuant: boolean;
  /** Linear weights held in 4 bits. */
  readonly quantizedWeights: number;
  /** Their elements (parameters). */
  readonly quantizedParams: number;
  /** Float32 bytes freed at rest, less what the kernels' 4-bit tensors take (core's quantizeLinears4bit). */
  readonly bytesSaved: number;
  /** Bits per parameter of the base as bitsandbytes stores it (packed codes, absmax, nested absmax), from the quantised weights. */
  readonly bitsPerParameter: number;
  /** Bits per parameter of the tensors the kernels read at run time (packed int32 words, de-nested float32 absmax, code). */
  readonly residentBitsPerParameter: number;
  /** Frozen Linears left in float32 (the skip list, shared weights). */
  readonly skipped: readonly string[];
}

/** A kernel row: the fused 4-bit product and the float32 GEMM at one shape, on one engine. */
export interface KernelComparison {
  /** y [m, n] = x [m, k]·Wᵀ (W [n, k], the forward) or x·W (W [k, n], the input gradient dy·W). */
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transposeWeight: boolean;
  readonly quantType: 'nf4' | 'fp4';
  readonly blockSize: number;
  readonly doubleQuant: boolean;
  /** Effective GFLOP/s (2·m·n·k ÷ median time) of the 4-bit product and of tf.matMul with the float32 weight. */
  readonly gflops4bit: number;
  readonly gflopsF32: number;
  readonly timingF32: Timing;
  /** Largest |4-bit − f32 on the dequantised weight| ÷ the largest |f32| (a sanity check of the product, not of quantisation). */
  readonly relativeError: number;
  /** What ran: the kernel behind each product. */
  readonly how: string;
}

/** What a side did with train.gradient_checkpointing and train.frozen_dtype. */
export interface AppliedMemory {
  /** 'off', 'every block' or 'every N blocks'. */
  readonly checkpointing: string;
  readonly frozenDtype: 'f32' | 'bf16' | 'fp16';
  /** Block stacks set to checkpoint (mmft) or blocks wrapped (torch). */
  readonly checkpointedStacks?: number;
  /** Frozen Linear weights stored in 16 bits. */
  readonly packedWeights?: number;
  /** Bytes the 16-bit storage saved at rest. */
  readonly bytesSaved?: number;
  /** model.quantization (QLoRA's 4-bit base), when the recipe has it. */
  readonly quantization?: AppliedQuantization;
  /** How the side implements them, in words (the torch peer: torch.utils.checkpoint, bf16 GEMMs). */
  readonly how?: string;
}

/** One experiment of the suite: both sides when the peer ran, or why a side is missing. */
export interface ExperimentResult {
  readonly name: string;
  readonly title: string;
  readonly kind: string;
  readonly group?: string;
  readonly mmft?: SideResult;
  /** The fastest of the peer's thread settings. */
  readonly torch?: SideResult;
  /** Every thread setting the peer ran with. */
  readonly torchRuns?: readonly SideResult[];
  /** mmft throughput ÷ the fastest torch throughput, when both ran. */
  readonly ratioVsTorch?: number;
  /** Why mmft (or the peer) did not produce a result. */
  readonly errors: readonly string[];
  /** The row's place in a memory table (bench.memory). */
  readonly memory?: MemoryRole;
}

/** Machine and software the suite ran on. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  readonly load: readonly number[];
  readonly date: string;
}

/** GEMM throughput of each engine on this machine. */
export interface GemmCeiling {
  readonly engine: string;
  readonly size: number;
  readonly gflops: number;
}

/** The JSON file of one `mmft bench` run. */
export interface SuiteReport {
  readonly format: 'mmft-bench';
  readonly version: 1;
  readonly suite: string;
  readonly machine: MachineInfo;
  readonly ceilings: readonly GemmCeiling[];
  readonly torchConfig?: string;
  readonly experiments: readonly ExperimentResult[];
}
