import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { dataDir, jsonl, writeData } from '../testing/fixtures';
import { llavaJson, synthFromAnnotations, type AnnotationTemplate } from './annotations';

const dir = dataDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const captions = writeData(
  dir,
  'captions.jsonl',
  jsonl(
    { image: 'images/red.png', caption: ['A red square.', 'A  red square. '] }, // the second is the first, spaced
    { image: 'images/blue.png', caption: '一个蓝色的正方形。' },
  ),
);
const vqa = writeData(
  dir,
  'vqa.jsonl',
  jsonl(
    { image: 'images/red.png', question: 'What color is it?', answer: 'red' },
    { image: 'images/red.png', question: 'What color is it?', answer: 'red' }, // duplicate line
    { image: 'images/red.png', question: 'Is it round?', answer: 'no' },
    { image: 'images/green.png', question: 'What color is it?', answer: 'green' },
  ),
);
const out = path.join(dir, 'out', 'synth.json');

describe('caption/VQA → conversations', () => {
  test('every template, hand-checked', async () => {
    const { records, duplicates } = await synthFromAnnotations([captions, vqa], { out, seed: 0 });
    const by = (image: string, template: AnnotationTemplate) =>
      records.filter((r) => r.image === `../images/${image}` && r.provenance.template === template);
    // red: one caption (its spaced copy dropped), two distinct Q/A (a repeated line dropped)
    expect(by('red.png', 'describe')).toHaveLength(1);
    expect(by('red.png', 'describe')[0]!.conversations[1]).toEqual({ from: 'gpt', value: 'A red square.' });
    expect(by('red.png', 'vqa').map((r) => r.conversations.map((t) => t.value))).toEqual([
      ['<image>\nWhat color is it?\nAnswer the question using a single word or phrase.', 'red'],
      ['<image>\nIs it round?\nAnswer the question using a single word or phrase.', 'no'],
    ]);
    const multi = by('red.png', 'multi-turn')[0]!;
    expect(multi.conversations.map((t) => t.from)).toEqual(['human', 'gpt', 'human', 'gpt', 'human', 'gpt']);
    expect(multi.conversations.slice(1).map((t) => t.value)).toEqual(['A red square.', 'What color is it?', 'red', 'Is it round?', 'no']);
    expect(multi.provenance.source).toBe('../captions.jsonl:1,../vqa.jsonl:1,../vqa.jsonl:3');
    expect(duplicates).toBe(2);
    // blue has only a caption: no multi-turn, no VQA; its text is Chinese, so is every wording
    expect(by('blue.png', 'multi-turn')).toHaveLength(0);
    expect(by('blue.png', 'refusal')[0]!.provenance.lang).toBe('zh');
    expect(by('blue.png', 'refusal')[0]!.conversations[1]!.value).toMatch(/我无法判断。$/);
    expect(['简要描述这张图片。', '用一句话描述这张图片。', '概括图片的内容。']).toContain(
      by('blue.png', 'describe')[0]!.conversations[0]!.value.replace('<image>\n', ''),
    );
    expect(by('green.png', 'refusal')[0]!.conversations[1]!.value).toMatch(/cannot tell\.$/);
    // one <image> per conversation, at the start of the first turn
    for (const r of records) {
      expect(r.conversations[0]!.value.startsWith('<image>\n')).toBe(true);
      expect(
        r.conversations
          .map((t) => t.value)
          .join('')
          .split('<image>'),
      ).toHaveLength(2);
      expect(fs.existsSync(path.resolve(path.dirname(out), r.image))).toBe(true);
    }
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  });

  test('deterministic for a seed; the seed chooses the wording', async () => {
    const a = await synthFromAnnotations([captions, vqa], { out, seed: 5 });
    const b = await synthFromAnnotations([captions, vqa], { out, seed: 5 });
    expect(llavaJson(a.records)).toBe(llavaJson(b.records));
    const wordings = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const { records } = await synthFromAnnotations([captions], { out, seed, templates: ['refusal'] });
      wordings.add(records[0]!.conversations[0]!.value);
    }
    expect(wordings.size).toBeGreaterThan(1); // the seed does choose
  });

  test('llavaJson is a JSON array with one record per line', () => {
    expect(llavaJson([])).toBe('[]\n');
    const text = llavaJson([{ a: 1 }, { b: 2 }]);
    expect(text).toBe('[\n{"a":1},\n{"b":2}\n]\n');
    expect(JSON.parse(text)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  test('refuses other tasks and unknown templates', async () => {
    const inst = writeData(
      dir,
      'inst.jsonl',
      jsonl({
        image: 'images/red.png',
        conversations: [
          { from: 'human', value: 'hi' },
          { from: 'gpt', value: 'yo' },
        ],
      }),
    );
    await expect(synthFromAnnotations([inst], { out })).rejects.toThrow(/inst.jsonl holds instruction records/);
    await expect(synthFromAnnotations([captions], { out, templates: ['compare' as AnnotationTemplate] })).rejects.toThrow(
      /unknown synthesis template "compare"/,
    );
  });
});
