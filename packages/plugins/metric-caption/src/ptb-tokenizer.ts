// Caption tokenisation of pycocoevalcap: Stanford PTBTokenizer (CoreNLP 3.4.1, `-preserveLines
// -lowerCase`), then the tokens of PUNCTUATIONS are dropped (tylin/coco-caption
// pycocoevalcap/tokenizer/ptbtokenizer.py). The Java lexer is emulated by rules; see docs/metrics.md.
import { americanize } from './americanize';

/** Tokens ptbtokenizer.py removes after the Java tokenizer ran (its PUNCTUATIONS list). */
export const PTB_PUNCTUATIONS: ReadonlySet<string> = new Set([
  "''",
  "'",
  '``',
  '`',
  '-LRB-',
  '-RRB-',
  '-LCB-',
  '-RCB-',
  '.',
  '?',
  '!',
  ',',
  ':',
  '-',
  '--',
  '...',
  ';',
]);

// Clitics PTB splits off a word ("dog's" → "dog 's", "don't" → "do n't").
const CLITIC = /^(.+?)(n't|'s|'m|'d|'ll|'re|'ve)$/i;
// Words PTB splits although they have no apostrophe (the Treebank's assimilations).
const ASSIMILATIONS: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['cannot', ['can', 'not']],
  ['gonna', ['gon', 'na']],
  ['gotta', ['got', 'ta']],
  ['wanna', ['wan', 'na']],
  ['lemme', ['lem', 'me']],
  ['gimme', ['gim', 'me']],
]);
// Abbreviations whose final period PTB keeps on the word.
const ABBREVIATION = /^(?:[a-z](?:\.[a-z])+\.?|mr|mrs|ms|dr|st|jr|sr|vs|etc|inc|ltd|co|corp|mt|ft)\.$/i;
// PTB3 escaping of brackets: pycocoevalcap's -lowerCase turns "-LRB-" into "-lrb-", which is NOT
// in PUNCTUATIONS (upper case there), so bracket tokens survive as "-lrb-" etc.
const BRACKETS: Readonly<Record<string, string>> = {
  '(': '-LRB-',
  ')': '-RRB-',
  '{': '-LCB-',
  '}': '-RCB-',
  '[': '-LSB-',
  ']': '-RSB-',
};

/** Split one whitespace-free chunk into PTB tokens (original case). */
function splitChunk(chunk: string, out: string[]): void {
  const trailing: string[] = [];
  let word = chunk;
  // Leading punctuation: quotes, brackets, dashes, currency and other symbols PTB separates.
  for (;;) {
    const lead = /^(``|\.\.\.|--|["'`(){}[\]$#@&*%,;:!?-])/.exec(word);
    if (!lead || lead[0].length === word.length) break;
    out.push(lead[0]);
    word = word.slice(lead[0].length);
  }
  // Trailing punctuation, outermost first; a final period stays on abbreviations.
  for (;;) {
    const tail = /(''|\.\.\.|--|["'`(){}[\]%,;:!?-]|\.)$/.exec(word);
    if (!tail || tail[0].length === word.length) break;
    if (tail[0] === '.' && ABBREVIATION.test(word)) break;
    if (tail[0] === "'" && /s'$/i.test(word) === false && CLITIC.test(word)) break;
    trailing.unshift(tail[0]);
    word = word.slice(0, -tail[0].length);
  }
  // Inner separators PTB always splits on (commas/colons only between non-digits).
  const pieces = word.split(/(\.\.\.|--|[!?;"(){}[\]]|(?<!\d),|,(?!\d)|(?<!\d):|:(?!\d))/).filter((p) => p !== '');
  for (const piece of pieces) {
    const assimilated = ASSIMILATIONS.get(piece.toLowerCase());
    const clitic = CLITIC.exec(piece);
    if (assimilated) {
      out.push(piece.slice(0, assimilated[0].length), piece.slice(assimilated[0].length));
    } else if (clitic && clitic[1] !== "'") {
      out.push(clitic[1], clitic[2]);
    } else {
      out.push(piece);
    }
  }
  out.push(...trailing);
}

/** Map a raw PTB token to what the Java tool prints: bracket escapes, slash escapes, respelling. */
function normalizeToken(token: string): string {
  const bracket = BRACKETS[token];
  if (bracket !== undefined) return bracket;
  if (token === '"') return "''";
  // PTB3 escaping (on in CoreNLP 3.4.1) writes "/" and "*" as "\/" and "\*".
  const escaped = token.replace(/([/*])/g, '\\$1');
  return /[a-z]/i.test(escaped) ? americanize(escaped) : escaped;
}

/**
 * Tokenise one caption as pycocoevalcap does and return its tokens.
 *
 * @example
 * ptbTokenize('A dog\'s toy, (red).'); // ['a', 'dog', "'s", 'toy', '-lrb-', 'red', '-rrb-']
 */
export function ptbTokenize(caption: string): string[] {
  // Typographic quotes and the ellipsis character become their ASCII forms, as PTB3 escaping does.
  const text = caption
    .replace(/[\u2018\u2019\u201B]/g, "'")
    .replace(/[\u201C\u201D\u201F]/g, '"')
    .replace(/\u2026/g, '...');
  const raw: string[] = [];
  for (const chunk of text.split(/\s+/)) if (chunk !== '') splitChunk(chunk, raw);
  const tokens: string[] = [];
  for (const token of raw) {
    // -lowerCase runs after normalisation, so "-LRB-" becomes "-lrb-" (kept) while "''" is removed.
    const printed = normalizeToken(token).toLowerCase();
    if (PTB_PUNCTUATIONS.has(printed)) continue;
    tokens.push(printed);
  }
  return tokens;
}
