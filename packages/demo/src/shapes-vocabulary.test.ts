// The committed tokenizer must cover everything the shapes generator can say: texts from other
// seeds (and more scenes) than the builder used must tokenise without unknown tokens.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitWords } from '@mmft/arch-clip';
import { shapesTexts } from './shapes-vocabulary';

const TOKENIZER = path.join(__dirname, '..', '..', '..', 'models', 'shapes-tokenizer', 'tokenizer.json');

describe('models/shapes-tokenizer', () => {
  test('covers every word of freshly generated shapes texts (English and Chinese)', async () => {
    const vocab = (JSON.parse(fs.readFileSync(TOKENIZER, 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    const texts = await shapesTexts(150, 7);
    const words = new Set(texts.flatMap((t) => splitWords(t)));
    expect(words.size).toBeGreaterThan(50);
    expect([...words].filter((w) => vocab[w] === undefined)).toEqual([]);
    expect(words.has('红')).toBe(true); // Chinese is split per character
  });
});
