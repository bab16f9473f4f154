import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { generate, generateStream } from './generate';
import { BYTE_EOS, HistoryModel, MarkovModel, byteTokenizer, logitsOf, scriptModel } from './toy-models.fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');

// Vocabulary 0..5: 0 = EOS, 1 = BOS. A Markov chain on the last id: 1 → 2 (0.5), 3 (0.3), 0 (0.2);
// 2 → 4 (0.6), 0 (0.4); 3 → 0 (0.9), 5 (0.1); 4 → 5 (0.7), 2 (0.3); 5 → 0 (0.8), 4 (0.2).
const CHAIN: Record<number, Record<number, number>> = {
  0: { 0: 1 },
  1: { 2: 0.5, 3: 0.3, 0: 0.2 },
  2: { 4: 0.6, 0: 0.4 },
  3: { 0: 0.9, 5: 0.1 },
  4: { 5: 0.7, 2: 0.3 },
  5: { 0: 0.8, 4: 0.2 },
};
const chain = () => new MarkovModel(6, (last) => logitsOf(6, CHAIN[last]!));

describe('greedy', () => {
  test('follows the argmax chain and stops after EOS (hand-checked: 1 → 2 → 4 → 5 → 0)', async () => {
    const out = await generate(chain(), { inputIds: ids([[1]]) }, { eosTokenId: 0, maxNewTokens: 10 });
    expect(out.sequences).toEqual([[2, 4, 5, 0]]);
    expect(out.texts).toEqual([]);
    expect(out.sequencesScores).toBeUndefined();
  });

  test('maxNewTokens cuts a row that has not ended; without EOS it runs to the limit', async () => {
    expect((await generate(chain(), { inputIds: ids([[1]]) }, { eosTokenId: 0, maxNewTokens: 2 })).sequences).toEqual([[2, 4]]);
    // No EOS configured: 0 is an ordinary id, and 0 → 0 forever.
    expect((await generate(chain(), { inputIds: ids([[1]]) }, { maxNewTokens: 6 })).sequences).toEqual([[2, 4, 5, 0, 0, 0]]);
  });

  test('the default length is 20 new tokens (HF max_length 20 plus the prompt)', async () => {
    const loop = new MarkovModel(6, () => logitsOf(6, { 2: 1 }));
    const out = await generate(loop, { inputIds: ids([[1, 1, 1]]) }, {});
    expect(out.sequences[0]).toHaveLength(20);
    // A maxLength the call sets counts the prompt: 5 − 3 = 2 new tokens.
    expect((await generate(loop, { inputIds: ids([[1, 1, 1]]) }, { maxLength: 5 })).sequences[0]).toHaveLength(2);
  });

  test('settings come from generation_config.json unless the call overrides them', async () => {
    const ctx = { generationConfig: { eos_token_id: 4, max_new_tokens: 8 } };
    expect((await generate(chain(), { inputIds: ids([[1]]) }, {}, ctx)).sequences).toEqual([[2, 4]]);
    expect((await generate(chain(), { inputIds: ids([[1]]) }, { eosTokenId: 0 }, ctx)).sequences).toEqual([[2, 4, 5, 0]]);
  });

  test('several EOS ids: whichever comes first ends the row', async () => {
    const out = await generate(chain(), { inputIds: ids([[1], [3]]) }, { eosTokenId: [5, 0], maxNewTokens: 10 });
    // Row 0: 2, 4, 5 (5 is an EOS). Row 1: 3 → 0.
    expect(out.sequences).toEqual([[2, 4, 5], [0]]);
  });

  test('rows that finish early are fed the pad id and returned unpadded', async () => {
    const model = new HistoryModel(6, (context) => logitsOf(6, CHAIN[context[context.length - 1]!]!));
    const seen: number[][] = [];
    const spy = {
      forward: (inputs: Parameters<HistoryModel['forward']>[0]) => (
        seen.push(...(inputs.inputIds?.arraySync() as number[][])),
        model.forward(inputs)
      ),
    };
    const out = await generate(spy, { inputIds: ids([[1], [3]]) }, { eosTokenId: 0, padTokenId: 5, maxNewTokens: 10 });
    expect(out.sequences).toEqual([[2, 4, 5, 0], [0]]);
    // Prompt rows, then per step the new ids: row 1 ended at step 1 and gets pad 5 afterwards.
    expect(seen).toEqual([[1], [3], [2], [0], [4], [5], [5], [5]]);
  });
});

describe('the KV cache and the attention mask', () => {
  // Next id = (sum of the real ids seen + position of the last one) mod 7, as a one-hot logit.
  const sumModel = () =>
    new HistoryModel(7, (context, position) => {
      const target = (context.reduce((a, b) => a + b, 0) + position) % 7;
      return Array.from({ length: 7 }, (_, id) => (id === target ? 5 : 0));
    });

  test('each step feeds one new id and the cache holds the rest (hand-checked: [3, 1] → 5, 4, 2)', async () => {
    const model = sumModel();
    const out = await generate(model, { inputIds: ids([[3, 1]]) }, { maxNewTokens: 3 });
    // (3 + 1) + position 1 = 5; (3 + 1 + 5) + 2 = 11 → 4; (3 + 1 + 5 + 4) + 3 = 16 → 2 (mod 7).
    expect(out.sequences).toEqual([[5, 4, 2]]);
    expect(model.calls).toEqual([
      { rows: 1, queryLength: 2, past: 0 },
      { rows: 1, queryLength: 1, past: 2 },
      { rows: 1, queryLength: 1, past: 3 },
    ]);
  });

  test('left padding gives each row the tokens it gets alone (positions come from the mask)', async () => {
    const alone = await generate(sumModel(), { inputIds: ids([[4]]) }, { maxNewTokens: 4 });
    const long = await generate(sumModel(), { inputIds: ids([[3, 2, 5]]) }, { maxNewTokens: 4 });
    const batch = await generate(
      sumModel(),
      {
        inputIds: ids([
          [0, 0, 4],
          [3, 2, 5],
        ]),
        attentionMask: ids([
          [0, 0, 1],
          [1, 1, 1],
        ]),
      },
      { maxNewTokens: 4 },
    );
    expect(batch.sequences).toEqual([alone.sequences[0], long.sequences[0]]);
  });

  test('the mask is inferred from the pad id when pad is in the prompt and is not an EOS id', async () => {
    const alone = await generate(sumModel(), { inputIds: ids([[4]]) }, { maxNewTokens: 3 });
    const inferred = await generate(sumModel(), { inputIds: ids([[6, 6, 4]]) }, { maxNewTokens: 3, padTokenId: 6 });
    expect(inferred.sequences).toEqual(alone.sequences);
  });

  test('inputsEmbeds feed the first step only; the prompt then counts against maxLength, not in sequences', async () => {
    const model = sumModel();
    const embeds = tf.tensor3d([[[3], [2]]], [1, 2, 1]);
    const viaIds = await generate(sumModel(), { inputIds: ids([[3, 2]]) }, { maxNewTokens: 3 });
    const viaEmbeds = await generate(model, { inputsEmbeds: embeds }, { maxNewTokens: 3 });
    expect(viaEmbeds.sequences).toEqual(viaIds.sequences);
    expect(model.calls.map((c) => c.queryLength)).toEqual([2, 1, 1]);
    // HF: max_length 6 minus the 2 embedded positions leaves 4 new tokens.
    expect((await generate(sumModel(), { inputsEmbeds: embeds }, { maxLength: 6 })).sequences[0]).toHaveLength(4);
    embeds.dispose();
  });
});

describe('processors inside the loop', () => {
  test('minNewTokens bans EOS until that many new tokens exist (prompt [1, 3] included or not)', async () => {
    const run = (prompt: number[], minNewTokens?: number) =>
      generate(chain(), { inputIds: ids([prompt]) }, { eosTokenId: 0, minNewTokens, maxNewTokens: 10 }).then((o) => o.sequences[0]);
    // 3 → 0 (0.9) at once.
    expect(await run([3])).toEqual([0]);
    // minNewTokens 1: EOS banned at the first step, so 3 → 5; then 5 → 0.
    expect(await run([3], 1)).toEqual([5, 0]);
    // minNewTokens 2: also banned after 5, so 5 → 4 (its only other id), 4 → 5, 5 → 0.
    expect(await run([3], 2)).toEqual([5, 4, 5, 0]);
    // The prompt does not count: [1, 3] behaves as [3].
    expect(await run([1, 3], 2)).toEqual([5, 4, 5, 0]);
    // minLength counts the prompt: 3 positions → one new token must come before EOS.
    const minLength = await generate(chain(), { inputIds: ids([[1, 3]]) }, { eosTokenId: 0, minLength: 3, maxNewTokens: 10 });
    expect(minLength.sequences[0]).toEqual([5, 0]);
  });

  test('repetitionPenalty steers away from ids already in the row (prompt included)', async () => {
    // From 4: 5 (0.7) vs 2 (0.3), and 5 is in the prompt. Its logit log 0.7 = −0.357 is negative, so it is multiplied:
    // penalty 2 gives −0.713, still above log 0.3 = −1.204; penalty 4 gives −1.427 and 2 wins.
    const weak = await generate(chain(), { inputIds: ids([[5, 4]]) }, { maxNewTokens: 1, repetitionPenalty: 2 });
    const strong = await generate(chain(), { inputIds: ids([[5, 4]]) }, { maxNewTokens: 1, repetitionPenalty: 4 });
    expect([weak.sequences[0], strong.sequences[0]]).toEqual([[5], [2]]);
  });

  test('noRepeatNgramSize 2 bans the id that would repeat a bigram', async () => {
    // A 4 ↔ 5 loop: 4 → 5 (0.7) or 2; 5 → 4 (0.6) or 3; anything else → 4.
    const loop = new MarkovModel(6, (last) => logitsOf(6, last === 4 ? { 5: 0.7, 2: 0.3 } : last === 5 ? { 4: 0.6, 3: 0.4 } : { 4: 1 }));
    const plain = await generate(loop, { inputIds: ids([[2]]) }, { maxNewTokens: 5 });
    expect(plain.sequences).toEqual([[4, 5, 4, 5, 4]]);
    const ngram = await generate(loop, { inputIds: ids([[2]]) }, { maxNewTokens: 5, noRepeatNgramSize: 2 });
    // [2] 4 5 4: then (4, 5) was seen, so 5 is banned and 4 → 2; then (2, 4) was seen, so 4 is banned and every
    // id of 2's row is −∞: argmax takes the first, 0.
    expect(ngram.sequences).toEqual([[4, 5, 4, 2, 0]]);
  });
});

describe('sampling', () => {
  const uniform = () => new MarkovModel(4, () => [0, 0, 0, 0]);

  test('the same seed gives the same tokens; another seed other tokens', async () => {
    const run = (seed: number) => generate(uniform(), { inputIds: ids([[1]]) }, { doSample: true, seed, maxNewTokens: 12 });
    const a = await run(7);
    expect((await run(7)).sequences).toEqual(a.sequences);
    expect((await run(8)).sequences).not.toEqual(a.sequences);
  });

  test('numReturnSequences gives that many independent rows per input', async () => {
    const out = await generate(
      uniform(),
      { inputIds: ids([[1], [2]]) },
      { doSample: true, seed: 3, numReturnSequences: 3, maxNewTokens: 8 },
    );
    expect(out.sequences).toHaveLength(6);
    expect(new Set(out.sequences.map((s) => s.join())).size).toBeGreaterThan(1);
  });

  test('draws stay inside the filtered set: topK 2 over [0.5, 0.3, 0.15, 0.05] (0.625 / 0.375 renormalised)', async () => {
    const model = new MarkovModel(4, () => logitsOf(4, { 0: 0.5, 1: 0.3, 2: 0.15, 3: 0.05 }));
    const out = await generate(model, { inputIds: ids([[1]]) }, { doSample: true, topK: 2, seed: 11, maxNewTokens: 400 });
    const counts = [0, 0, 0, 0];
    for (const id of out.sequences[0]!) counts[id]!++;
    expect(counts[2]! + counts[3]!).toBe(0);
    // Binomial(400, 0.625): mean 250, sd ≈ 9.7; ±40 is about 4 sd (frequencies are checked finely in random.test.ts).
    expect(Math.abs(counts[0]! - 250)).toBeLessThan(40);
  });
});

describe('stop strings', () => {
  test('a row stops on the token that completes a stop string, and keeps it', async () => {
    const model = scriptModel('ab. cd', 1);
    const out = await generate(model, { inputIds: ids([[32]]) }, { stopStrings: ['b.'], maxNewTokens: 20 }, { tokenizer: byteTokenizer });
    expect(out.texts).toEqual(['ab.']);
    const none = await generate(
      scriptModel('ab. cd', 1),
      { inputIds: ids([[32]]) },
      { stopStrings: ['zz'], eosTokenId: BYTE_EOS, maxNewTokens: 20 },
      { tokenizer: byteTokenizer },
    );
    expect(none.texts).toEqual(['ab. cd']);
    expect(none.sequences[0]!.at(-1)).toBe(BYTE_EOS);
  });

  test('stop strings without a tokenizer are refused', async () => {
    await expect(generate(chain(), { inputIds: ids([[1]]) }, { stopStrings: ['x'] })).rejects.toThrow(
      /stopStrings .* need the model's tokenizer/,
    );
  });
});

describe('resources', () => {
  test('no tensor survives generate, greedy or beam, nor a failing forward', async () => {
    const model = scriptModel('hello world', 1);
    await generate(model, { inputIds: ids([[32]]) }, { maxNewTokens: 3 });
    const input = ids([[32]]);
    const before = tf.memory().numTensors;
    await generate(
      scriptModel('hello world', 1),
      { inputIds: input },
      { maxNewTokens: 6, eosTokenId: BYTE_EOS },
      { tokenizer: byteTokenizer },
    );
    await generate(scriptModel('hello world', 1), { inputIds: input }, { maxNewTokens: 6, numBeams: 3, eosTokenId: BYTE_EOS });
    for await (const chunk of generateStream(
      scriptModel('hello world', 1),
      { inputIds: input },
      { maxNewTokens: 8 },
      { tokenizer: byteTokenizer },
    )) {
      if (chunk.tokens[0] === 32) break; // abandon the stream midway
    }
    let calls = 0;
    const failing = {
      forward: (inputs: Parameters<HistoryModel['forward']>[0]) =>
        ++calls === 3
          ? (() => {
              throw new Error('boom');
            })()
          : model.forward(inputs),
    };
    await expect(generate(failing, { inputIds: input }, { maxNewTokens: 6 })).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });
});
