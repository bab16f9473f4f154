// The loop with objective causal-lm on core's tiny causal LM: accumulation weights every label token
// alike (transformers' num_items_in_batch, trainer.py), so batch 2 × accumulation 1 and batch 1 ×
// accumulation 2 take the same step, both equal to an AdamW step on the gradient of the summed
// token cross-entropy over the total label count computed here by hand; evaluation reports
// perplexity = exp(eval_loss) (transformers' examples/pytorch/language-modeling/run_clm.py) before
// and after training, in metrics.jsonl, the summary and report.html.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import {
  isMmftError,
  type AnyProvider,
  type ArchitectureProvider,
  type Dataset,
  type DatasetProvider,
  type Example,
  type MetricProvider,
  type TextInput,
  type RunContext,
} from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { readTensorFile } from '@mmft/core/io';
import { tinyCausalLm } from '@mmft/core/testing';
import { causalLmProvider } from '@mmft/objective-causal-lm';
import { recordingReporter, registry } from './fixtures.test-helper';
import { runTraining, trainConfigSchema } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const SEED = 5;
// Two texts of different token counts: a mean of per-batch means would weight their tokens unequally.
const TEXTS = ['a red circle', 'the small blue square is left of a big green star and a yellow triangle'];
const textExamples = (texts: readonly string[]): Example[] => texts.map((text, i) => ({ id: `t${i}`, task: 'text', text }));

const tinyLm: ArchitectureProvider<{ seed: number }> = {
  kind: 'architecture',
  id: 'tiny-lm',
  description: 'core tinyCausalLm (tests)',
  family: 'language-model',
  modelTypes: ['tiny-lm'],
  configSchema: z.object({ seed: z.number().default(SEED).describe('init seed') }),
  fromConfig: async (config) => tinyCausalLm({ seed: config.seed ?? SEED }),
  fromPretrained: () => Promise.reject(new Error('not used')),
};

const DATA: Record<string, Example[]> = { texts: textExamples(TEXTS) };
const memoryText: DatasetProvider<{ name: string }> = {
  kind: 'dataset',
  id: 'memory-text',
  description: 'text examples held in memory (tests)',
  tasks: ['text'],
  configSchema: z.object({ name: z.string().describe('key in DATA') }),
  async open(config): Promise<Dataset> {
    const examples = DATA[config.name]!;
    return {
      task: 'text',
      size: examples.length,
      async *iterate(options = {}) {
        yield* examples.slice(options.startAt ?? 0);
      },
    };
  },
};

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-trainer-lm-'));

function context(outputDir: string, recipe: Record<string, unknown>): RunContext & { reporter: ReturnType<typeof recordingReporter> } {
  return {
    recipe: {
      name: 'tiny-lm',
      seed: 7,
      model: { type: 'tiny-lm', seed: SEED },
      data: { train: { type: 'memory-text', name: 'texts' } },
      ...recipe,
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry([tinyLm, memoryText, causalLmProvider] as AnyProvider[]),
    reporter: recordingReporter(),
  };
}

/**
 * Summed next-token cross-entropy of each text (plain template: the text, then eos, every token a
 * label; GPT-2's tokenizer adds no bos) and its label count, by logSoftmax and a gather.
 */
function tokenLosses(lm: ReturnType<typeof tinyCausalLm>, texts: readonly string[]): { sums: tf.Scalar[]; counts: number[] } {
  const tokenizer = lm.processor.tokenizer!;
  const eos = tokenizer.specialTokenIds!.eos!;
  const sums: tf.Scalar[] = [];
  const counts: number[] = [];
  for (const text of texts) {
    const ids = [...tokenizer.encode([text], { addSpecialTokens: false, truncation: false }).inputIds[0]!, eos];
    counts.push(ids.length - 1);
    sums.push(
      tf.tidy(() => {
        const logits = lm.forward({ inputIds: tf.tensor2d([ids], [1, ids.length], 'int32') }).logits; // [1, T, V]
        const logp = tf.logSoftmax(tf.squeeze(logits, [0]));
        const picked = ids.slice(1).map((next, t) => tf.slice(logp, [t, next], [1, 1]));
        return tf.neg(tf.sum(tf.concat(picked))) as tf.Scalar;
      }),
    );
  }
  return { sums, counts };
}

const trained = async (dir: string): Promise<Float32Array> => {
  const { tensors } = await readTensorFile(path.join(dir, 'checkpoint-last', 'trainable.safetensors'));
  expect([...tensors.keys()]).toEqual(['model.embed_tokens.weight']);
  return tensors.get('model.embed_tokens.weight')!.data as Float32Array;
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const logged = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>);

describe('standard trainer with objective causal-lm', () => {
  test('batch 2 × accumulation 1 and batch 1 × accumulation 2 take the same step, weighted by label tokens', async () => {
    // lr 1, eps 1: AdamW's first update lr·g/(|g|+eps) stays close to linear in g, so token weighting shows.
    const step = { max_steps: 1, lr: 1, eps: 1, weight_decay: 0, max_grad_norm: 0, schedule: 'constant', eval_before: false };
    const together = tmp();
    await runTraining(
      trainConfigSchema.parse({ ...step, batch_size: 2, grad_accum_steps: 1 }),
      context(together, { objective: { type: 'causal-lm' } }),
    );
    const accumulated = tmp();
    await runTraining(
      trainConfigSchema.parse({ ...step, batch_size: 1, grad_accum_steps: 2 }),
      context(accumulated, { objective: { type: 'causal-lm' } }),
    );

    // By hand: the gradient of (S1 + S2) / (n1 + n2) and of the mean of per-example means.
    const lm = tinyCausalLm({ seed: SEED });
    const weight = lm.root.namedParameters().find(([n]) => n === 'model.embed_tokens.weight')![1];
    const p0 = weight.dataSync().slice();
    const gradOf = (combine: (s: tf.Scalar[], n: number[]) => tf.Scalar) => {
      const { value, grads } = tf.variableGrads(() => {
        const { sums, counts } = tokenLosses(lm, TEXTS);
        return combine(sums, counts);
      }, [weight]);
      const g = grads[weight.name]!.dataSync().slice() as Float32Array;
      const loss = value.dataSync()[0]!;
      tf.dispose([value, grads[weight.name]!]);
      return { g, loss };
    };
    const tokenWeighted = gradOf((s, n) => tf.div(tf.addN(s), n[0]! + n[1]!) as tf.Scalar);
    const perExample = gradOf((s, n) => tf.div(tf.add(tf.div(s[0]!, n[0]!), tf.div(s[1]!, n[1]!)), 2) as tf.Scalar);
    const counts = tokenLosses(lm, TEXTS);
    expect(counts.counts[0]).not.toBe(counts.counts[1]);
    tf.dispose(counts.sums);
    lm.dispose();
    // AdamW step 1 (torch/optim/adamw.py): m̂ = g, v̂ = g², p ← p − lr·m̂/(√v̂ + eps).
    const adam = (g: Float32Array) => p0.map((p, i) => p - g[i]! / (Math.abs(g[i]!) + 1));
    const expected = adam(tokenWeighted.g);

    const [a, b] = [await trained(together), await trained(accumulated)];
    expect(maxAbsDiff(a, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(b, expected)).toBeLessThan(1e-6);
    // The unweighted mean of the two examples' means would have moved the weights elsewhere.
    expect(maxAbsDiff(adam(perExample.g), expected)).toBeGreaterThan(1e-3);
    // The logged training loss is the token-weighted mean in both layouts.
    for (const dir of [together, accumulated]) {
      const entry = logged(dir).find((e) => e.kind === 'train')!;
      expect(entry.loss as number).toBeCloseTo(tokenWeighted.loss, 5);
    }
  });

  test('an LM run without objective: trains causal-lm and reports perplexity = exp(eval_loss) before and after', async () => {
    const dir = tmp();
    const ctx = context(dir, { data: { train: { type: 'memory-text', name: 'texts' }, eval: { type: 'memory-text', name: 'texts' } } });
    const summary = await runTraining(
      trainConfigSchema.parse({ max_steps: 3, batch_size: 2, lr: 0.05, metric_for_best: 'perplexity', log_every: 1 }),
      ctx,
    );
    // Before training, by hand: the token-weighted mean cross-entropy of the eval texts.
    const lm = tinyCausalLm({ seed: SEED });
    const { sums, counts } = tokenLosses(lm, TEXTS);
    const beforeLoss = (sums[0]!.dataSync()[0]! + sums[1]!.dataSync()[0]!) / (counts[0]! + counts[1]!);
    tf.dispose(sums);
    lm.dispose();

    const evals = logged(dir).filter((e) => e.kind === 'eval');
    expect(evals.map((e) => e.step)).toEqual([0, 3]);
    expect(evals[0]!.eval_loss as number).toBeCloseTo(beforeLoss, 5);
    for (const e of evals) expect(e.perplexity as number).toBeCloseTo(Math.exp(e.eval_loss as number), 6);
    const [before, after] = [evals[0]!.perplexity as number, evals[1]!.perplexity as number];
    expect(after).toBeLessThan(before);
    expect(summary.metrics.perplexity).toBe(after);
    expect(ctx.reporter.lines).toContain(`${'perplexity'.padEnd(10)}  ${before.toFixed(2).padStart(9)}  ${after.toFixed(2).padStart(9)}`);
    // perplexity picks checkpoint-best, lower is better.
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint-best', 'trainer_state.json'), 'utf8'));
    expect([state.metricForBest, state.greaterIsBetter, state.bestMetric]).toEqual(['perplexity', false, after]);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`<tr><td>perplexity</td><td>${before.toPrecision(5)}</td><td>${after.toPrecision(5)}</td></tr>`);
  });

  test('a generation metric with only plain-text eval data names the metric and why it got nothing', async () => {
    const exact: MetricProvider<Record<string, never>, TextInput> = {
      kind: 'metric',
      id: 'exact',
      consumes: 'text',
      description: 'test exact match',
      configSchema: z.object({}),
      scores: { exact: 'higher' },
      create: () => ({ reset: () => undefined, update: () => undefined, compute: () => ({ scores: { exact: 0 } }) }),
    };
    const dir = tmp();
    const ctx = context(dir, {
      data: { train: { type: 'memory-text', name: 'texts' }, eval: { type: 'memory-text', name: 'texts' } },
      metrics: [{ type: 'exact' }],
    });
    const run = runTraining(trainConfigSchema.parse({ max_steps: 1 }), {
      ...ctx,
      resolver: registry([tinyLm, memoryText, causalLmProvider, exact] as AnyProvider[]),
    });
    await expect(run).rejects.toThrow(
      'metric "exact" reads text inputs, but objective "causal-lm" produced none from data.eval (a generating objective turns captions into text inputs, VQA into vqa inputs, conversations into instruction inputs, or text inputs when no metric reads instruction; plain text is scored by eval_loss and perplexity only)',
    );
  });

  test('feature-based is refused for an objective that trains the model', async () => {
    const dir = tmp();
    let error: unknown;
    try {
      await runTraining(
        trainConfigSchema.parse({ max_steps: 1, strategy: 'feature-based' }),
        context(dir, { objective: { type: 'causal-lm' } }),
      );
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.message).toBe(
      'train.strategy feature-based trains a head on cached features, but objective "causal-lm" trains the model\'s own weights',
    );
  });
});
