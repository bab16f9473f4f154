// generate() on a tiny GPT-2 end to end (core's decoding loop over this model's KV-cached forward),
// checked against an argmax loop that recomputes the plain-JS reference on the whole sequence, and
// beam scores against the reference's log-probabilities.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { GPT2LMHeadModel } from './gpt2-lm-head-model';
import { createTinyGpt2Checkpoint, type TinyGpt2Checkpoint } from './testing/tiny-checkpoint';
import { referenceGpt2Logits, referenceGreedy } from './testing/reference-gpt2';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-gpt2-gen-'));
let ckpt: TinyGpt2Checkpoint;
let model: GPT2LMHeadModel;
let eos: number;

beforeAll(async () => {
  ckpt = await createTinyGpt2Checkpoint(path.join(tmp, 'tiny'), { seed: 21, padToken: '<|endoftext|>', config: { n_embd: 16, n_head: 2 } });
  model = await GPT2LMHeadModel.fromPretrained(ckpt.dir);
  eos = ckpt.config.eos_token_id as number;
});
afterAll(() => {
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ids2d = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
/** A row up to and including its first eos (generate pads finished rows after it). */
const untilEos = (row: readonly number[]) => (row.includes(eos) ? row.slice(0, row.indexOf(eos) + 1) : [...row]);

/** log p(tokens | prompt) summed, from the reference recomputed on the whole sequence. */
function referenceLogProb(prompt: number[], tokens: number[]): number {
  const logits = referenceGpt2Logits(ckpt.config, ckpt.tensors, { ids: [[...prompt, ...tokens]] })[0]!;
  let sum = 0;
  tokens.forEach((token, i) => {
    const row = logits[prompt.length - 1 + i]!;
    const max = Math.max(...row);
    sum += row[token]! - max - Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
  });
  return sum;
}

describe('GPT2LMHeadModel.generate', () => {
  const prompts = [
    [10, 40, 7, 99],
    [3, 250, 31, 5],
  ];

  test('greedy equals the reference argmax loop, row by row', async () => {
    const result = await model.generate({ inputIds: ids2d(prompts), attentionMask: tf.ones([2, 4], 'int32') }, { maxNewTokens: 6 });
    expect(result.sequences).toHaveLength(2);
    prompts.forEach((prompt, b) => {
      const expected = referenceGreedy(ckpt.config, ckpt.tensors, prompt, 6, eos);
      expect(untilEos(result.sequences[b]!)).toEqual(expected);
    });
    expect(result.texts).toHaveLength(2);
  });

  test('a left-padded batch decodes each row as it decodes alone (positions from the mask)', async () => {
    const short = [77, 12];
    const batch = [[eos, eos, ...short], prompts[0]!];
    const mask = [
      [0, 0, 1, 1],
      [1, 1, 1, 1],
    ];
    const result = await model.generate({ inputIds: ids2d(batch), attentionMask: ids2d(mask) }, { maxNewTokens: 5 });
    expect(untilEos(result.sequences[0]!)).toEqual(referenceGreedy(ckpt.config, ckpt.tensors, short, 5, eos));
    expect(untilEos(result.sequences[1]!)).toEqual(referenceGreedy(ckpt.config, ckpt.tensors, prompts[0]!, 5, eos));
  });

  test('beam search with numBeams 1 is greedy; with 3 beams its scores are the reference log-probabilities', async () => {
    const input = () => ({ inputIds: ids2d([prompts[1]!]), attentionMask: tf.ones([1, 4], 'int32') });
    const greedy = await model.generate(input(), { maxNewTokens: 5 });
    const oneBeam = await model.generate(input(), { maxNewTokens: 5, numBeams: 1 });
    expect(oneBeam.sequences).toEqual(greedy.sequences);
    const beams = await model.generate(input(), {
      maxNewTokens: 5,
      numBeams: 3,
      numReturnSequences: 3,
      lengthPenalty: 0,
      earlyStopping: true,
    });
    expect(beams.sequences).toHaveLength(3);
    expect(beams.sequencesScores).toHaveLength(3);
    beams.sequences.forEach((row, i) => {
      const tokens = untilEos(row);
      expect(Math.abs(beams.sequencesScores![i]! - referenceLogProb(prompts[1]!, tokens))).toBeLessThan(1e-3);
    });
    const scores = beams.sequencesScores!;
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  test('generateStream yields the tokens generate returns', async () => {
    const input = () => ({ inputIds: ids2d([prompts[0]!]), attentionMask: tf.ones([1, 4], 'int32') });
    const whole = await model.generate(input(), { maxNewTokens: 4 });
    const streamed: number[] = [];
    for await (const chunk of model.generateStream(input(), { maxNewTokens: 4 }))
      if (chunk.tokens[0]! >= 0) streamed.push(chunk.tokens[0]!);
    expect(streamed).toEqual(untilEos(whole.sequences[0]!));
  });

  test('generation leaves no tensors behind (cache and steps freed)', async () => {
    const ids = ids2d(prompts);
    const mask = tf.ones([2, 4], 'int32');
    const before = tf.memory().numTensors;
    await model.generate({ inputIds: ids, attentionMask: mask }, { maxNewTokens: 3 });
    await model.generate({ inputIds: ids, attentionMask: mask }, { maxNewTokens: 3, numBeams: 2 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, mask]);
  });
});
