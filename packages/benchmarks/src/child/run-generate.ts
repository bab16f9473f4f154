// The `prefill` and `decode` kinds: a causal LM's generate() with its KV cache, timed through the
// streaming form (generateStream yields once per decoding step, so each step has its own time).
// Greedy (doSample false, numBeams 1), no EOS ids, so every row gets exactly the asked number of
// new tokens; the prompt is batch_size rows of text_length synthetic ids, no padding.
//   prefill: generate() with maxNewTokens 1, timed from the call to its one token (prompt read,
//     the forward over the prompt that fills the cache, argmax): B·T prompt tokens per second.
//   decode: generate() with maxNewTokens new_tokens; each gap between consecutive tokens is one
//     decode step (one position per row through the model with the cache, argmax): B new tokens per step.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type GenerationOptions, type ProviderResolver } from '@mmft/core';
import { sectionOf, type Experiment } from '../suite/experiment';
import { lmDecodeStepFlops, lmPrefillFlops, lmShapeOf } from '../suite/lm-flops';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { selectEngine } from './build-run';
import { lmPromptIds, lmSpecOf } from './lm-synthetic';
import { buildCausalLm } from './run-lm-train';
import { modelConfigOf } from './synthetic';

/** The decoding settings both sides use: greedy, no end-of-sequence ids, `maxNewTokens` tokens. */
export function benchGenerationOptions(maxNewTokens: number): GenerationOptions {
  return { maxNewTokens, doSample: false, numBeams: 1, eosTokenId: [] };
}

/**
 * Measure a prefill or decode experiment.
 *
 * @example
 * const result = await runGenerate(experiment, registry);
 */
export async function runGenerate(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const backend = await selectEngine(experiment, resolver);
  const model = await buildCausalLm(experiment, resolver);
  model.root.eval();
  const { bench } = experiment;
  const prefill = bench.kind === 'prefill';
  const batch = bench.batch_size ?? 1;
  const length = bench.text_length;
  const config = modelConfigOf(experiment);
  const inputIds = tf.tensor2d(lmPromptIds(lmSpecOf(config, batch, length)), [batch, length], 'int32');
  const attentionMask = tf.ones([batch, length], 'int32');
  const newTokens = prefill ? 1 : bench.new_tokens;
  const options = benchGenerationOptions(newTokens);
  const samples: number[] = [];
  try {
    for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
      const stamps: number[] = [];
      let produced = 0;
      const start = performance.now();
      for await (const chunk of model.generateStream({ inputIds, attentionMask }, options)) {
        stamps.push(performance.now());
        produced += chunk.tokens.filter((id) => id >= 0).length;
      }
      if (produced !== batch * newTokens) {
        throw new MmftError('E_BACKEND', `${experiment.file}: generate() returned ${produced} tokens, expected ${batch} × ${newTokens}`);
      }
      if (pass < bench.warmup_steps) continue;
      if (prefill) samples.push(stamps[0]! - start);
      else for (let i = 1; i < stamps.length; i++) samples.push(stamps[i]! - stamps[i - 1]!);
    }
  } finally {
    tf.dispose([inputIds, attentionMask]);
    model.dispose();
  }
  const timing = summarize(samples);
  const shape = lmShapeOf(sectionOf(experiment, 'model')!.id, config);
  // The median decode step sits half-way through the new tokens.
  const flops = prefill ? lmPrefillFlops(shape, batch, length) : lmDecodeStepFlops(shape, batch, length + newTokens / 2);
  const caps = backend.capabilities;
  return {
    side: 'mmft',
    throughput: (1000 * batch * (prefill ? length : 1)) / timing.medianMs,
    unit: 'tokens/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: {
      name: backend.name,
      engine: caps.engine,
      threads: caps.threads,
      kernelOverrides: caps.kernelOverrides,
      tfjs: tf.version_core,
    },
    flops,
  };
}
