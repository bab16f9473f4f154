// generate() on OPTForCausalLM end to end (core's decoding loop with this model's forward and KV
// cache) against plain-JS decoding over the reference forward (testing/reference-opt.ts).
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { HfTokenizer } from '@mmft/core/hf';
import { OPTForCausalLM } from './opt-model';
import { referenceGreedy, referenceLogProb } from './testing/reference-opt';
import { createTinyOptCheckpoint, type TinyOptCheckpoint } from './testing/tiny-checkpoint';

let tmp: string;
let model: OPTForCausalLM;
let ckpt: TinyOptCheckpoint;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-opt-gen-'));
  ckpt = await createTinyOptCheckpoint(path.join(tmp, 'opt'), { seed: 32, word_embed_proj_dim: 8, scale: 1 });
  model = await OPTForCausalLM.fromPretrained(ckpt.dir);
});
afterAll(() => {
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Row 0 is left-padded with <pad> (1); both start with OPT's </s> (2).
const ROWS = [
  [1, 1, 2, 40, 41],
  [2, 50, 51, 52, 53],
];
const MASK = [
  [0, 0, 1, 1, 1],
  [1, 1, 1, 1, 1],
];
const prompt = () => ({ inputIds: tf.tensor2d(ROWS, undefined, 'int32'), attentionMask: tf.tensor2d(MASK, undefined, 'int32') });

describe('OPTForCausalLM.generate', () => {
  test('greedy decoding of a left-padded batch gives the tokens of a plain-JS argmax loop', async () => {
    const inputs = prompt();
    const result = await model.generate(inputs, { maxNewTokens: 8 });
    const expected = referenceGreedy(model.config, ckpt.tensors, ROWS, MASK, { maxNewTokens: 8, eosTokenId: 2 });
    expect(result.sequences).toEqual(expected);
    expect(result.texts).toEqual(expected.map((ids) => model.tokenizer!.decode(ids, { skipSpecialTokens: true })));
    tf.dispose(Object.values(inputs));
  });

  test('beam search with numBeams 1 is greedy', async () => {
    const inputs = prompt();
    const greedy = await model.generate(inputs, { maxNewTokens: 6 });
    const beam = await model.generate(inputs, { maxNewTokens: 6, numBeams: 1 });
    expect(beam.sequences).toEqual(greedy.sequences);
    tf.dispose(Object.values(inputs));
  });

  test("beam search: each returned sequence's score is its log-probability under the reference (lengthPenalty 0), best first", async () => {
    const inputs = prompt();
    const result = await model.generate(inputs, { maxNewTokens: 4, numBeams: 3, numReturnSequences: 3, lengthPenalty: 0 });
    expect(result.sequences).toHaveLength(6);
    expect(result.sequencesScores).toHaveLength(6);
    for (let b = 0; b < 2; b++) {
      const start = MASK[b]!.indexOf(1);
      const rows = result.sequences.slice(b * 3, b * 3 + 3);
      expect(new Set(rows.map((r) => r.join(','))).size).toBe(3);
      const scores = result.sequencesScores!.slice(b * 3, b * 3 + 3);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
      rows.forEach((tokens, i) => {
        const expected = referenceLogProb(model.config, ckpt.tensors, ROWS[b]!.slice(start), MASK[b]!.slice(start), tokens);
        expect(scores[i]).toBeCloseTo(expected, 3);
      });
    }
    tf.dispose(Object.values(inputs));
  });

  test('generateStream yields the greedy tokens step by step', async () => {
    const inputs = prompt();
    const expected = referenceGreedy(model.config, ckpt.tensors, ROWS, MASK, { maxNewTokens: 5, eosTokenId: 2 });
    const streamed: number[][] = [[], []];
    for await (const chunk of model.generateStream(inputs, { maxNewTokens: 5 })) {
      chunk.tokens.forEach((token, row) => {
        if (token >= 0) streamed[row]!.push(token);
      });
    }
    expect(streamed).toEqual(expected);
    tf.dispose(Object.values(inputs));
  });

  test('text in, text out: the tokenizer pads on the left for generation and prepends </s>', async () => {
    const texts = ['a red circle', 'what color is the big square?'];
    const encoded = (model.tokenizer as HfTokenizer).encode(texts, { padding: 'longest', paddingSide: 'left' });
    expect(encoded.inputIds.map((r, i) => r[encoded.attentionMask[i]!.indexOf(1)])).toEqual([2, 2]);
    const inputs = {
      inputIds: tf.tensor2d(encoded.inputIds, undefined, 'int32'),
      attentionMask: tf.tensor2d(encoded.attentionMask, undefined, 'int32'),
    };
    const result = await model.generate(inputs, { maxNewTokens: 4 });
    expect(result.sequences).toEqual(
      referenceGreedy(model.config, ckpt.tensors, encoded.inputIds, encoded.attentionMask, { maxNewTokens: 4, eosTokenId: 2 }),
    );
    tf.dispose(Object.values(inputs));
  });

  test('greedy and beam generation leave no tensors behind', async () => {
    const inputs = prompt();
    await model.generate(inputs, { maxNewTokens: 2 });
    const before = tf.memory().numTensors;
    await model.generate(inputs, { maxNewTokens: 4 });
    await model.generate(inputs, { maxNewTokens: 3, numBeams: 2 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(inputs));
  });
});
