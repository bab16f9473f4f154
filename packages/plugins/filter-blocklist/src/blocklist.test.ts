import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PluginRegistry, type StreamFilter } from '@mmft/core';
import plugin, { blocklistFilter, BlocklistFilter, type BlocklistConfig, type BlocklistConfigInput } from './index';

const FILE = path.join(__dirname, '../test-fixtures/terms.txt');
// create() parses its config itself, so tests hand it what a command line writes (defaults left out).
const create = (config: BlocklistConfigInput) => blocklistFilter.create(config as BlocklistConfig) as BlocklistFilter;
const redact = () => create({ file: FILE, mode: 'redact', replacement: '[x]' });
const refuse = () => create({ file: FILE, mode: 'refuse' });

/** Runs a stream over pieces; returns what was emitted, or the refusal. */
function run(s: StreamFilter, pieces: readonly string[]): { text: string; refused?: string } {
  let text = '';
  for (let i = 0; i < pieces.length; i++) {
    const v = s(pieces[i]!, i === pieces.length - 1);
    if (v.action === 'refuse') return { text, refused: v.reason };
    text += v.text;
  }
  return { text };
}

/** Every split of `text` into two or three pieces. */
function* splits(text: string): Generator<string[]> {
  for (let i = 0; i <= text.length; i++) {
    yield [text.slice(0, i), text.slice(i)];
    for (let j = i; j <= text.length; j++) yield [text.slice(0, i), text.slice(i, j), text.slice(j)];
  }
}

describe('blocklist filter', () => {
  test('reads terms (comments and blank lines skipped) and holds back the longest term (8 units) − 1 + 1 for word boundaries', () => {
    // "bad word" is 8 UTF-16 units; English terms check the character after them, so 8 − 1 + 1.
    expect(redact().holdBack).toBe(8);
    const chineseOnly = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bl-')), 't.txt');
    fs.writeFileSync(chineseOnly, '违禁词\n敏感\n');
    expect((create({ file: chineseOnly, mode: 'redact' }) as BlocklistFilter).holdBack).toBe(2);
  });

  test('English terms match case-insensitively as whole words; Chinese terms as substrings', () => {
    const f = redact();
    expect(f.check('That is a BAD Word, ass.')).toEqual({ action: 'redact', text: 'That is a [x], [x].' });
    expect(f.check('the assistant passes a bad words test')).toEqual({ action: 'allow' });
    expect(f.check('这是违禁词吗？敏感话题')).toEqual({ action: 'redact', text: '这是[x]吗？[x]话题' });
    expect(f.check('无害的句子')).toEqual({ action: 'allow' });
    expect(refuse().check('a Bad word here')).toEqual({ action: 'refuse', reason: 'the reply contains a blocked term (blocklist line 2)' });
    expect(refuse().check('含有敏感内容')).toEqual({ action: 'refuse', reason: 'the reply contains a blocked term (blocklist line 6)' });
  });

  test('a term split across streamed pieces is redacted exactly as in the whole text, for every split point', () => {
    const texts = ['so bad word!', 'an ass, assistant', '它是违禁词。', 'x 敏感 bad word'];
    for (const text of texts) {
      const whole = redact().check(text);
      const expected = whole.action === 'redact' ? whole.text : text;
      for (const pieces of splits(text)) expect({ pieces, ...run(redact().stream(), pieces) }).toEqual({ pieces, text: expected });
      expect(run(redact().stream(), [...text, '']).text).toBe(expected); // one character at a time, then an empty final
    }
  });

  test('nothing of a term reaches the client before the term is complete (English and Chinese)', () => {
    const s = redact().stream();
    expect(s('it is ba', false)).toEqual({ action: 'emit', text: '' }); // 8 units held back: all of it
    // 28 characters in all, 8 kept back: the first 20 ("it is bad word and m") go out, the term redacted.
    expect(s('d word and more text', false)).toEqual({ action: 'emit', text: 'it is [x] and m' });
    expect(s('', true)).toEqual({ action: 'emit', text: 'ore text' });
    const c = redact().stream();
    expect(c('前言违', false)).toEqual({ action: 'emit', text: '' });
    expect(c('禁词后记和更多的中文字符', false).action).toBe('emit');
    const chinese = run(redact().stream(), ['前言违', '禁', '词后记']);
    expect(chinese.text).toBe('前言[x]后记');
  });

  test('refuse mode stops at the first term even when it is split; text before it was emitted', () => {
    const r = run(refuse().stream(), ['Hello there, this is a ba', 'd wo', 'rd and the rest']);
    expect(r.refused).toBe('the reply contains a blocked term (blocklist line 2)');
    expect('Hello there, this is a '.startsWith(r.text)).toBe(true);
    expect(run(refuse().stream(), ['违', '禁', '词']).refused).toMatch(/line 4/);
    const s = refuse().stream();
    s('违禁词', false);
    expect(s('more', true).action).toBe('refuse'); // stays refused
  });

  test('a word at the end of the stream is judged when the stream ends ("ass" then final)', () => {
    expect(run(redact().stream(), ['you ', 'ass']).text).toBe('you [x]');
    expect(run(redact().stream(), ['you ', 'ass', 'ist']).text).toBe('you assist');
  });

  test('errors name the file; the plugin registers kind filter', () => {
    expect(() => create({ file: '/nope/terms.txt', mode: 'refuse' })).toThrow(/blocklist file \/nope\/terms.txt: cannot read it/);
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bl-')), 'e.txt');
    fs.writeFileSync(empty, '# only a comment\n\n');
    expect(() => create({ file: empty, mode: 'refuse' })).toThrow(/no terms/);
    expect(() => create({ file: FILE, mode: 'hide' as 'refuse' })).toThrow(/mode/);
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/filter-blocklist');
    expect(registry.resolve('filter', 'blocklist').id).toBe('blocklist');
  });
});
