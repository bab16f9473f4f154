// `mmft probe` on a tiny BLIP-2 over a tiny OPT (@mmft/arch-blip2/testing, current layout) with
// three caption examples whose images are uniform colours, so every pixel is known by formula. The
// mean log-likelihood of each condition is recomputed here from the model's bare logits (image
// span, bos, "a photo of", caption, eos; log-softmax of the positions that predict caption and eos), with each
// example's image as the condition says (its own colour, the processor's mean colour, the colour of
// example derangement(3, seed)[i]); the answers are a reference argmax loop over the full forward,
// and agreement is counted from those answers; the per-layer attention mass on the image span is
// pooled from each example's own unpadded forward. probe.json and probe.html are written.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, type TextTokenizer } from '@mmft/core';
import { optProvider } from '@mmft/arch-opt';
import { Blip2ForConditionalGeneration, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from '@mmft/arch-blip2';
import { derangement, normaliseAnswer } from '../probe/conditions';
import { probeCommand } from './probe';
import { createTinyOptBlip2, runCommands } from './fixtures.test-helper';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/arch-opt',
  '@mmft/arch-blip2',
  '@mmft/data-jsonl',
  '@mmft/objective-causal-lm',
  '@mmft/metric-caption',
];
const context = architectureContext({ list: () => [optProvider] });
const COLOURS: [number, number, number][] = [
  [230, 20, 20],
  [20, 200, 40],
  [10, 30, 240],
];
const CAPTIONS = ['a red square', 'a green circle', 'two blue stars'];
const MAX_NEW = 3;
const PROMPT = 'a photo of';
let tmp: string;
let tokenizer: TextTokenizer;
let imageToken: number;
let model: Blip2ForConditionalGeneration;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-probe-'));
  const dir = path.join(tmp, 'blip2');
  ({ tokenizer, imageToken } = await createTinyOptBlip2(dir, path.join(tmp, 'tokenizer'), { seed: 7 }));
  model = await Blip2ForConditionalGeneration.fromPretrained(dir, {}, context);
  COLOURS.forEach(([r, g, b], i) =>
    fs.writeFileSync(
      path.join(tmp, `${i}.svg`),
      `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="rgb(${r},${g},${b})"/></svg>`,
    ),
  );
  fs.writeFileSync(
    path.join(tmp, 'eval.jsonl'),
    CAPTIONS.map((caption, i) => JSON.stringify({ id: `ex${i}`, image: `${i}.svg`, caption })).join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(tmp, 'probe.yaml'),
    [
      'model: { type: blip2, checkpoint: ./blip2 }',
      'data: { eval: { type: jsonl, path: ./eval.jsonl } }',
      `objective: { type: causal-lm, max_length: 32, prompts: { caption: '${PROMPT}' }, generation: { max_new_tokens: ${MAX_NEW} } }`,
      'metrics: [{ type: caption, tokenizer: none }]',
    ].join('\n'),
  );
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (argv: string[]) => runCommands((ctx) => [probeCommand(ctx)], ['probe', ...argv], { cwd: tmp, builtins: BUILTINS });

/** Pixels [1, 3, 8, 8] of a uniform colour, by the formula. */
const pixelsOf = (rgb: readonly number[]) =>
  tf.tensor4d(
    [0, 1, 2].flatMap((c) => new Array<number>(64).fill((rgb[c]! / 255 - OPENAI_CLIP_MEAN[c]!) / OPENAI_CLIP_STD[c]!)),
    [1, 3, 8, 8],
  );

/** log-softmax rows of the last logits of `ids` read with `rgb`. */
function logProbs(rgb: readonly number[], ids: number[]): number[][] {
  return tf.tidy(() => {
    const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
    const logits = model.forward({ pixelValues: pixelsOf(rgb), inputIds, attentionMask: tf.onesLike(inputIds) }).logits;
    return tf.logSoftmax(tf.squeeze(logits, [0])).arraySync() as number[][];
  });
}

const span = () => new Array<number>(4).fill(imageToken);
const eos = () => tokenizer.specialTokenIds!.eos!;

/** The prompt ids: image span, then "a photo of" with bos. */
const promptIds = () => [...span(), ...tokenizer.encode([PROMPT], { truncation: false, addSpecialTokens: true }).inputIds[0]!];

/**
 * Σ log p of the caption's tokens and eos after the prompt, and their count. The caption's tokens are
 * what tokenizing "a photo of <caption>" adds to tokenizing the prompt (the run tokenized whole).
 */
function captionLogLikelihood(rgb: readonly number[], caption: string): [number, number] {
  const prompt = promptIds();
  const whole = tokenizer.encode([`${PROMPT} ${caption}`], { truncation: false, addSpecialTokens: true }).inputIds[0]!;
  const text = prompt.length - 4;
  expect(whole.slice(0, text)).toEqual(prompt.slice(4));
  const target = [...whole.slice(text), eos()];
  const ids = [...prompt, ...target];
  const lp = logProbs(rgb, ids);
  let sum = 0;
  target.forEach((t, j) => (sum += lp[prompt.length + j - 1]![t]!));
  return [sum, target.length];
}

/** Greedy answer after the prompt, stopping at eos, decoded. */
function greedyCaption(rgb: readonly number[]): string {
  const row = promptIds();
  const out: number[] = [];
  for (let s = 0; s < MAX_NEW; s++) {
    const last = logProbs(rgb, row).at(-1)!;
    const next = last.indexOf(Math.max(...last));
    if (next === eos()) break;
    row.push(next);
    out.push(next);
  }
  return tokenizer.decode(out, { skipSpecialTokens: true }).trim();
}

describe('mmft probe', () => {
  test('log-likelihoods, answers and agreement of the three conditions equal the reference; table and files written', async () => {
    const r = await run(['probe.yaml', '--output', 'out', '--seed', '4', '--batch-size', '2']);
    expect(r.stderr).toBe('');
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'out', 'probe.json'), 'utf8')) as {
      examples: number;
      conditions: Record<string, { meanLogLikelihood: number; tokens: number; agreement: number; predictions: Record<string, string> }>;
      attentionUnavailable?: string;
    };
    expect(json.examples).toBe(3);
    const mean = model.processor.imageProcessing!.mean.map((m) => Math.round(m * 255));
    const order = derangement(3, 4)!;
    const imageOf: Record<string, (i: number) => readonly number[]> = {
      true: (i) => COLOURS[i]!,
      blank: () => mean,
      shuffled: (i) => COLOURS[order[i]!]!,
    };
    const truth = CAPTIONS.map((_, i) => greedyCaption(COLOURS[i]!));
    for (const [condition, image] of Object.entries(imageOf)) {
      const got = json.conditions[condition]!;
      const parts = CAPTIONS.map((caption, i) => captionLogLikelihood(image(i), caption));
      const tokens = parts.reduce((n, [, c]) => n + c, 0);
      expect(got.tokens).toBe(tokens);
      expect(got.meanLogLikelihood).toBeCloseTo(parts.reduce((s, [l]) => s + l, 0) / tokens, 4);
      const answers = CAPTIONS.map((_, i) => greedyCaption(image(i)));
      expect(CAPTIONS.map((_, i) => got.predictions[`ex${i}`])).toEqual(answers);
      const same = answers.filter((a, i) => normaliseAnswer(a) === normaliseAnswer(truth[i]!)).length;
      expect(got.agreement).toBeCloseTo(same / 3, 12);
    }
    // The fixture's conditions differ: taking the image away changes the likelihood.
    expect(json.conditions.blank!.meanLogLikelihood).not.toBeCloseTo(json.conditions.true!.meanLogLikelihood, 4);
    // BLIP-2 returns its language model's attention: per layer, the mass text positions put on the
    // image span, from each example's own unpadded forward, pooled over examples.
    expect(json.attentionUnavailable).toBeUndefined();
    for (const [condition, image] of Object.entries(imageOf)) {
      const sums = [0, 0];
      let count = 0;
      CAPTIONS.forEach((caption, i) => {
        const prompt = promptIds();
        const whole = tokenizer.encode([`${PROMPT} ${caption}`], { truncation: false, addSpecialTokens: true }).inputIds[0]!;
        const ids = [...prompt, ...whole.slice(prompt.length - 4), eos()];
        const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
        const pixelValues = pixelsOf(image(i));
        const out = model.attentionProbabilities({ pixelValues, inputIds });
        out.probabilities.forEach((p, l) => {
          const heads = (p.arraySync() as number[][][][])[0]!;
          for (const rows of heads) for (const row of rows.slice(4)) sums[l]! += row[0]! + row[1]! + row[2]! + row[3]!;
        });
        count += 2 * (ids.length - 4);
        tf.dispose([inputIds, pixelValues, ...out.probabilities]);
      });
      const got = (json.conditions[condition] as unknown as { attention: number[] }).attention;
      expect(got).toHaveLength(2);
      got.forEach((mass, l) => expect(mass).toBeCloseTo(sums[l]! / count, 4));
    }
    expect(r.stdout).toMatch(/true image\s+100\.0%/);
    expect(r.stdout).toMatch(/caption\.cider/);
    expect(r.stdout).toMatch(/attention mass on image positions/);
    expect(r.stdout).not.toMatch(/not available/);
    const html = fs.readFileSync(path.join(tmp, 'out', 'probe.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/answers equal to the true-image answer/);
  });

  test('a recipe without model.checkpoint and no --model is an error naming the fix', async () => {
    fs.writeFileSync(
      path.join(tmp, 'nockpt.yaml'),
      'model: { type: blip2, config: { num_query_tokens: 4 } }\ndata: { eval: { type: jsonl, path: ./eval.jsonl } }\n',
    );
    const r = await run(['nockpt.yaml', '--output', 'out2']);
    expect(r.stderr).toMatch(/model\.checkpoint is not set/);
  });

  test('a split the recipe lacks is an error naming it', async () => {
    const r = await run(['probe.yaml', '--split', 'train', '--output', 'out3']);
    expect(r.stderr).toMatch(/no data\.train section/);
  });
});
