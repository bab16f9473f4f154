// The `bench:` block of an experiment file: what kind of measurement, which suites run it, how
// many warm-up and timed steps, and the knobs of the non-training kinds. Everything else in the
// file is an ordinary recipe (model/peft/loss/train/data/metrics), validated by the plugins.
import { z } from 'zod';
import { checkRuntime, runtimeSchema } from './runtime';

/** Suites an experiment can belong to; `full` is a superset of `quick` by convention, not by code. */
export const SUITES = ['quick', 'full'] as const;
export type SuiteName = (typeof SUITES)[number];

/** What an experiment measures. */
export const BENCH_KINDS = ['train', 'embed', 'embed-text', 'data', 'metrics', 'prefill', 'decode', 'caption', 'kernel'] as const;
export type BenchKind = (typeof BENCH_KINDS)[number];

const count = (what: string, fallback: number) => z.number().int().min(0).default(fallback).describe(what);

/**
 * A row of a memory table (docs/benchmarks.md, "Memory"): which table, and the rows of the same run its
 * peaks and throughput are compared with. The memory switches themselves are the recipe's own
 * (train.gradient_checkpointing, train.frozen_dtype), so an experiment stays a recipe `mmft train` runs.
 */
export const memoryRoleSchema = z.strictObject({
  table: z.string().min(1).describe('the memory table this row is shown in, e.g. "small CLIP, batch 32"'),
  full: z.string().min(1).optional().describe('the full fine-tune of the same model and batch (experiment name): peak ÷ its peak'),
  without_checkpointing: z
    .string()
    .min(1)
    .optional()
    .describe('the same run without gradient checkpointing (experiment name): the throughput cost of checkpointing'),
  peak_goal: z.number().positive().optional().describe("goal for this row's peak ÷ the full fine-tune's peak (e.g. 0.5)"),
  lora_f32: z
    .string()
    .min(1)
    .optional()
    .describe('a QLoRA row: the same LoRA run with its base in float32 (experiment name): peak and step time ÷ its (the QLoRA table)'),
});

/** A parsed `bench.memory` block. */
export type MemoryRole = z.output<typeof memoryRoleSchema>;

/**
 * A kernel row (kind kernel): the fused 4-bit product MmftMatMul4bit against the float32 GEMM at the
 * same shape, y [m, n] = x [m, k]·Wᵀ (a Linear's forward) or x·W (its input gradient dy·W).
 */
export const matmul4bitSchema = z.strictObject({
  m: z.number().int().positive().describe('rows of x: tokens of a training step, 1 for decoding'),
  n: z.number().int().positive().describe('columns of y'),
  k: z.number().int().positive().describe('the reduced dimension'),
  transpose_weight: z.boolean().default(true).describe('x·Wᵀ with W [n, k] (forward); false: x·W with W [k, n] (input gradient)'),
  quant_type: z.enum(['nf4', 'fp4']).default('nf4'),
  block_size: z.number().int().positive().default(64),
  double_quant: z.boolean().default(true),
});

/** A parsed `bench.matmul4bit` block. */
export type Matmul4bitShape = z.output<typeof matmul4bitSchema>;

export const benchConfigSchema = z
  .strictObject({
    kind: z
      .enum(BENCH_KINDS)
      .describe(
        'train: optimizer steps/s (causal LMs: tokens/s); embed: images/s of image embeddings; embed-text: texts/s of CLIP text embeddings; data: images/s of the image pipeline; metrics: evaluator items/s; prefill / decode: prompt and new tokens/s of generate() with the KV cache; caption: images/s (BLIP-2) or new tokens/s (LLaVA) of generate() on a vision-to-LLM model (the whole call, greedy, new_tokens per image); kernel: effective GFLOP/s of the fused 4-bit product against the float32 GEMM (bench.matmul4bit)',
      ),
    suites: z.array(z.enum(SUITES)).min(1).describe('suites that run this experiment (mmft bench --suite quick|full)'),
    title: z.string().min(1).describe('one line shown in tables and reports'),
    warmup_steps: count('untimed steps (or passes) before timing', 2),
    timed_steps: z.number().int().positive().default(5).describe('timed steps (or passes); the median is reported'),
    peer: z
      .enum(['torch', 'none'])
      .default('none')
      .describe('run the PyTorch peer side by side (train, embed, prefill, decode and caption kinds)'),
    profile: z.boolean().default(false).describe('record a tf.profile of one step, kernels aggregated by name (train kind)'),
    group: z.string().optional().describe('experiments of one group share data and budget and form one comparison table (e.g. peft)'),
    text_length: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe(
        'tokens per synthetic text (train and embed kinds; causal LMs: the training sequence or the prompt length; vision-to-LLM training: the text after the image tokens)',
      ),
    batch_size: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('batch of the embed, embed-text, data, prefill, decode and caption kinds (train uses train.batch_size)'),
    new_tokens: z.number().int().min(2).default(32).describe('tokens generate() adds per row, greedy, no EOS (decode and caption kinds)'),
    images: z.number().int().positive().default(256).describe('images per pass (data kind)'),
    workers: z.number().int().min(0).default(0).describe('image worker threads (data kind; 0 = main thread)'),
    image_size: z.number().int().positive().default(64).describe('output side of the image pipeline (data kind)'),
    items: z.number().int().positive().default(1000).describe('images of the retrieval similarity matrix, 5 texts each (metrics kind)'),
    memory: memoryRoleSchema.optional().describe('the row belongs to a memory table (train kind): its peak tensor bytes are measured too'),
    matmul4bit: matmul4bitSchema.optional().describe('the shape and format of a kernel row (kind kernel)'),
    runtime: runtimeSchema,
  })
  .superRefine((bench, ctx) => {
    if (bench.kind === 'kernel' && bench.matmul4bit === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['matmul4bit'],
        message: 'a kernel row needs bench.matmul4bit: { m, n, k } (the product it times)',
      });
    if (bench.kind !== 'kernel' && bench.matmul4bit !== undefined)
      ctx.addIssue({ code: 'custom', path: ['matmul4bit'], message: `only kind kernel reads bench.matmul4bit, not kind ${bench.kind}` });
    checkRuntime(bench, ctx);
  });

/** A parsed `bench:` block. */
export type BenchConfig = z.output<typeof benchConfigSchema>;
