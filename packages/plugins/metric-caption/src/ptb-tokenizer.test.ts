// The PTB emulation on the cases pycocoevalcap's users meet: case, punctuation, clitics, numbers.
import { describe, expect, test } from '@jest/globals';
import { americanize } from './americanize';
import { ptbTokenize } from './ptb-tokenizer';
import { chineseCharTokenize } from './tokenizers';

describe('ptb tokenizer', () => {
  test('lower-cases and removes the PUNCTUATIONS tokens', () => {
    expect(ptbTokenize('A Dog, running; fast: now! Really? Yes... -- ok.')).toEqual([
      'a',
      'dog',
      'running',
      'fast',
      'now',
      'really',
      'yes',
      'ok',
    ]);
  });

  test('quotes are removed, clitics split as PTB does', () => {
    expect(ptbTokenize('"The dog\'s toy" isn\'t here')).toEqual(['the', 'dog', "'s", 'toy', 'is', "n't", 'here']);
    expect(ptbTokenize("They can't, we cannot")).toEqual(['they', 'ca', "n't", 'we', 'can', 'not']);
  });

  test('numbers, hyphenated words and acronyms stay whole', () => {
    expect(ptbTokenize('1,000 x-ray images at 10:30 in the U.S.')).toEqual([
      '1,000',
      'x-ray',
      'images',
      'at',
      '10:30',
      'in',
      'the',
      'u.s.',
    ]);
    expect(ptbTokenize('It costs 3.5 dollars.')).toEqual(['it', 'costs', '3.5', 'dollars']);
  });

  test('brackets survive as -lrb-/-rrb- (the lower-cased escape is not in PUNCTUATIONS)', () => {
    expect(ptbTokenize('a cat (black)')).toEqual(['a', 'cat', '-lrb-', 'black', '-rrb-']);
  });

  test('British spellings are americanized before lower-casing', () => {
    expect(ptbTokenize('a grey colour')).toEqual(['a', 'gray', 'color']);
    expect(americanize('contour')).toBe('contour');
    expect(americanize('Colour')).toBe('Colour');
  });

  test('empty and whitespace-only captions give no tokens', () => {
    expect(ptbTokenize('')).toEqual([]);
    expect(ptbTokenize('  . ')).toEqual([]);
  });
});

describe('chinese-char tokenizer', () => {
  test('one token per character, punctuation dropped, Latin runs kept', () => {
    expect(chineseCharTokenize('一只狗，在草地上。OK')).toEqual(['一', '只', '狗', '在', '草', '地', '上', 'ok']);
  });
});
