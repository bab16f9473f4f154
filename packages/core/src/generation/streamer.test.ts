import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { TextTokenizer } from '../contracts/model';
import { generate, generateStream } from './generate';
import { StopStringMatcher } from './stopping';
import { RowTextStreamer } from './streamer';
import { BYTE_EOS, byteTokenizer, scriptModel } from './toy-models.fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bytes = (text: string) => [...new TextEncoder().encode(text)];

/** What a row streamer returns for each byte of `text`, then at the end. */
function stream(text: string): string[] {
  const row = new RowTextStreamer(byteTokenizer);
  return [...bytes(text).map((b) => row.put(b)), row.end()];
}

describe('RowTextStreamer (TextStreamer rules)', () => {
  test('text is final up to the last space; the rest comes at the end', () => {
    expect(stream('ab cd')).toEqual(['', '', 'ab ', '', '', 'cd']);
  });

  test('a newline makes everything final', () => {
    expect(stream('ab\nc')).toEqual(['', '', 'ab\n', '', 'c']);
  });

  test('a CJK character is final at once; its bytes wait while they decode to U+FFFD', () => {
    // 你 is 3 bytes: the first two decode to U+FFFD and wait; the third completes it.
    expect(stream('你好')).toEqual(['', '', '你', '', '', '好', '']);
    // A non-CJK multi-byte character (é, 2 bytes) waits for the next space like any word.
    expect(stream('é b')).toEqual(['', '', 'é ', '', 'b']);
  });

  test('special tokens are skipped', () => {
    const row = new RowTextStreamer(byteTokenizer);
    expect([...bytes('a '), BYTE_EOS].map((id) => row.put(id))).toEqual(['', 'a ', '']);
    expect(row.end()).toBe('');
  });
});

describe('generateStream', () => {
  const prompt = () => ({ inputIds: tf.tensor2d([[32], [32]], [2, 1], 'int32') });

  test('yields the same tokens as generate, and per row the chunks add up to its text', async () => {
    const options = { eosTokenId: BYTE_EOS, maxNewTokens: 30 };
    const ctx = { tokenizer: byteTokenizer };
    const script = 'one 二三 four\nfive';
    const done = await generate(scriptModel(script, 1), prompt(), options, ctx);
    const tokens: number[][] = [[], []];
    const texts = ['', ''];
    for await (const chunk of generateStream(scriptModel(script, 1), prompt(), options, ctx)) {
      chunk.tokens.forEach((id, r) => id >= 0 && tokens[r]!.push(id));
      chunk.texts.forEach((t, r) => (texts[r] += t));
    }
    expect(tokens).toEqual(done.sequences);
    expect(texts).toEqual(done.texts);
    expect(done.texts).toEqual([script, script]);
  });

  test('sampled streams equal generate with the same seed; rows that are done get −1', async () => {
    const opts = { doSample: true, seed: 4, numReturnSequences: 2, eosTokenId: BYTE_EOS, maxNewTokens: 6 };
    // Row ends differ: the script model ends at EOS after 2 bytes, the limit cuts at 6.
    const model = () => scriptModel('hi', 1);
    const done = await generate(model(), { inputIds: tf.tensor2d([[32]], [1, 1], 'int32') }, opts, { tokenizer: byteTokenizer });
    const steps: number[][] = [];
    for await (const chunk of generateStream(model(), { inputIds: tf.tensor2d([[32]], [1, 1], 'int32') }, opts, {
      tokenizer: byteTokenizer,
    })) {
      steps.push([...chunk.tokens]);
    }
    const perRow = [0, 1].map((r) => steps.map((s) => s[r]!).filter((id) => id >= 0));
    expect(perRow).toEqual(done.sequences);
    const lengths = done.sequences.map((s) => s.length);
    expect(steps).toHaveLength(Math.max(...lengths));
    expect(steps.at(-1)!.filter((id) => id < 0)).toHaveLength(lengths.filter((n) => n < steps.length).length);
  });

  test('beam search cannot stream (transformers refuses a streamer with beams)', async () => {
    const iterate = async () => {
      for await (const _ of generateStream(scriptModel('x', 1), prompt(), { numBeams: 2 })) void _;
    };
    await expect(iterate()).rejects.toThrow(/beam search \(numBeams 2\) cannot stream/);
  });
});

describe('StopStringMatcher (StopStringCriteria on decoded text)', () => {
  // Word tokens, so a token can run past the end of a stop string.
  const words = ['Hello', ' wor', 'ld', '.', ' Stop', 'here', '!!'];
  const wordTokenizer: TextTokenizer = {
    vocabSize: words.length,
    encode: () => ({ inputIds: [], attentionMask: [] }),
    decode: (ids) => ids.map((i) => words[i]).join(''),
  };
  const matcher = new StopStringMatcher(wordTokenizer, ['world', 'Stophere!']);

  test('matches when a stop string ends inside the last token, wherever it starts', () => {
    expect(matcher.matches([0, 1])).toBe(false);
    expect(matcher.matches([0, 1, 2])).toBe(true); // "wor" + "ld"
    expect(matcher.matches([0, 1, 2, 3])).toBe(false); // ended one token ago
    expect(matcher.matches([4, 5, 6])).toBe(true); // " Stophere!!": "Stophere!" ends inside the last token "!!"
    expect(matcher.matches([4, 5])).toBe(false);
  });

  test('the last token may run past the end of the stop string', () => {
    const stop = new StopStringMatcher(wordTokenizer, ['here!']);
    expect(stop.matches([4, 5, 6])).toBe(true); // "here!!": "here!" ends inside "!!"
    expect(new StopStringMatcher(wordTokenizer, ['Hell']).matches([0])).toBe(true);
  });
});
