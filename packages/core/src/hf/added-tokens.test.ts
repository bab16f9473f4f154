// The added-special-token helpers on hand-made tokenizer.json files and a real byte-level BPE
// tokenizer: the id lookup (added tokens, BPE map, Unigram list), the entries written to
// tokenizer.json and tokenizer_config.json, and the mean rows computed by hand.
import { describe, expect, test } from '@jest/globals';
import { MmftError } from '../errors';
import { appendMeanRows, findTokenId, withAddedSpecialToken } from './added-tokens';
import { byteLevelBpeTokenizerFiles } from './tiny-tokenizers';
import { tokenizerFromFiles } from './tokenizer-files';

const enc = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
const dec = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, any>;

describe('findTokenId', () => {
  test('absent: only the largest id, over the BPE map and the added tokens', () => {
    expect(findTokenId(enc({ model: { vocab: { a: 0, b: 1 } }, added_tokens: [{ id: 2, content: '<s>' }] }), '<image>')).toEqual({
      maxId: 2,
    });
  });

  test('in the BPE map', () => {
    expect(findTokenId(enc({ model: { vocab: { a: 0, '<image>': 1 } }, added_tokens: [] }), '<image>')).toEqual({ id: 1, maxId: 1 });
  });

  test('in added_tokens, past the model vocabulary; an added token wins over a vocabulary piece', () => {
    expect(findTokenId(enc({ model: { vocab: { a: 0 } }, added_tokens: [{ id: 9, content: '<image>' }] }), '<image>')).toEqual({
      id: 9,
      maxId: 9,
    });
    expect(findTokenId(enc({ model: { vocab: { '<image>': 0 } }, added_tokens: [{ id: 3, content: '<image>' }] }), '<image>')).toEqual({
      id: 3,
      maxId: 3,
    });
  });

  test('in a Unigram list: the id is the index', () => {
    const unigram = {
      model: {
        vocab: [
          ['a', 0],
          ['<image>', -1],
          ['b', -2],
        ],
      },
    };
    expect(findTokenId(enc(unigram), '<image>')).toEqual({ id: 1, maxId: 2 });
    expect(findTokenId(enc(unigram), '<pad>')).toEqual({ maxId: 2 });
  });

  test('invalid JSON is an E_CONFIG naming the file', () => {
    expect(() => findTokenId(new TextEncoder().encode('{'), '<image>', 'tok/tokenizer.json')).toThrow(MmftError);
    expect(() => findTokenId(new TextEncoder().encode('{'), '<image>', 'tok/tokenizer.json')).toThrow(
      /tok\/tokenizer\.json is not valid JSON/,
    );
  });
});

describe('withAddedSpecialToken', () => {
  const entry = { lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };

  test('the files written: appended to added_tokens and added_tokens_decoder, other files passed through', () => {
    const files = new Map([
      ['tokenizer.json', enc({ model: { vocab: { a: 0, b: 1 } }, added_tokens: [{ id: 2, content: '<s>', special: true }] })],
      ['tokenizer_config.json', enc({ added_tokens_decoder: { '2': { content: '<s>', special: true } }, model_max_length: 64 })],
      ['special_tokens_map.json', enc({ bos_token: '<s>' })],
    ]);
    const out = withAddedSpecialToken(files, '<image>', 3);
    expect(dec(out.get('tokenizer.json')!)).toEqual({
      model: { vocab: { a: 0, b: 1 } },
      added_tokens: [
        { id: 2, content: '<s>', special: true },
        { id: 3, content: '<image>', ...entry },
      ],
    });
    expect(dec(out.get('tokenizer_config.json')!)).toEqual({
      added_tokens_decoder: { '2': { content: '<s>', special: true }, '3': { content: '<image>', ...entry } },
      model_max_length: 64,
    });
    expect(new TextDecoder().decode(out.get('tokenizer.json')!).endsWith('}\n')).toBe(true);
    expect(out.get('special_tokens_map.json')).toBe(files.get('special_tokens_map.json'));
    // The input map is left as it was.
    expect(dec(files.get('tokenizer.json')!).added_tokens).toHaveLength(1);
    expect(findTokenId(out.get('tokenizer.json')!, '<image>')).toEqual({ id: 3, maxId: 3 });
  });

  test('without tokenizer_config.json only tokenizer.json changes; without tokenizer.json it is an E_CONFIG', () => {
    const out = withAddedSpecialToken(new Map([['tokenizer.json', enc({ model: { vocab: { a: 0 } } })]]), '<image>', 1);
    expect([...out.keys()]).toEqual(['tokenizer.json']);
    expect(dec(out.get('tokenizer.json')!).added_tokens).toEqual([{ id: 1, content: '<image>', ...entry }]);
    expect(() => withAddedSpecialToken(new Map(), '<image>', 1)).toThrow(/cannot add <image>: the tokenizer folder has no tokenizer.json/);
  });

  test('a byte-level BPE tokenizer then encodes the token as one special id, other text as before', () => {
    const files = byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: '<|endoftext|>' });
    files.set('tokenizer_config.json', enc({ added_tokens_decoder: {}, tokenizer_class: 'GPT2Tokenizer' }));
    const before = tokenizerFromFiles(files)!;
    const v = before.vocabSize;
    const after = tokenizerFromFiles(withAddedSpecialToken(files, '<image>', v))!;
    expect(after.vocabSize).toBe(v + 1);
    const text = 'a red circle';
    const plain = before.encode([text], { addSpecialTokens: false }).inputIds[0]!;
    expect(after.encode([`${text}<image>${text}`], { addSpecialTokens: false }).inputIds[0]).toEqual([...plain, v, ...plain]);
    expect(after.decode([v], { skipSpecialTokens: true })).toBe('');
  });
});

describe('appendMeanRows', () => {
  test('one row of column means by default: [[1, 2], [3, 4], [8, 0]] gains [(1+3+8)/3, (2+4+0)/3] = [4, 2]', () => {
    expect(Array.from(appendMeanRows(new Float32Array([1, 2, 3, 4, 8, 0]), 3))).toEqual([1, 2, 3, 4, 8, 0, 4, 2]);
  });

  test('several rows, and a vector (a bias: width 1)', () => {
    expect(Array.from(appendMeanRows(new Float32Array([1, 2]), 2, 2))).toEqual([1, 2, 1.5, 1.5]);
    expect(Array.from(appendMeanRows(new Float32Array([0, 1, 2, 3]), 2, 2))).toEqual([0, 1, 2, 3, 1, 2, 1, 2]);
  });

  test('the sums are float64: (2²⁴ + 1 + 1) / 3 = 5592406 (a float32 sum would lose both 1s: 5592405.5)', () => {
    expect(appendMeanRows(new Float32Array([2 ** 24, 1, 1]), 3)[3]).toBe(5592406);
  });
});
