import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { runCliForTest } from '../testing';

// Golden files: regenerate with UPDATE_GOLDEN=1 and read the diff (each was checked by hand against
// llava/conversation.py's rendering, see packages/plugins/objective-causal-lm/src/templates.ts).
const ROOT = path.resolve(__dirname, '../../../..');
const MODEL = path.join(ROOT, 'models/llama-shapes-base');
const GOLDEN = path.join(__dirname, '__golden__');
const golden = (name: string, text: string) => {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, text);
  expect(text).toBe(fs.readFileSync(file, 'utf8'));
};

function dataFile(records: unknown[]): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-preview-'));
  fs.writeFileSync(path.join(dir, 'chat.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { dir, file: 'chat.jsonl' };
}

const en = {
  id: 'en1',
  system: 'Answer briefly.',
  conversations: [
    { from: 'human', value: 'What color is the hexagon?' },
    { from: 'gpt', value: 'Orange.' },
    { from: 'human', value: 'And the star?' },
    { from: 'gpt', value: 'Green.' },
  ],
};
const zh = {
  id: 'zh1',
  lang: 'zh',
  messages: [
    { role: 'user', content: '六边形是什么颜色的？' },
    { role: 'assistant', content: '橙色。' },
  ],
};

describe('mmft data preview', () => {
  test('a data file through llava_v1: golden English and Chinese (the Chinese system prompt from the example language)', async () => {
    const { dir, file } = dataFile([en, zh]);
    const run = await runCliForTest(['data', 'preview', file, '--model', MODEL, '--template', 'llava_v1'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    golden('data-preview.llava_v1.txt', run.stdout.split(dir).join('<tmp>'));
    // The data's own system turn replaces the default; the Chinese row gets the Chinese default.
    expect(run.stdout).toContain('⟦<s> Answer briefly. USER: What color is the hexagon? ASSISTANT:⟧ Orange.</s>');
    expect(run.stdout).toContain('一段好奇的人类与人工智能助手之间的对话。');
  });

  test('chatml with --system-lang zh on both rows, and the totals line adds the rows up', async () => {
    const { dir, file } = dataFile([{ ...en, system: undefined }, zh]);
    const run = await runCliForTest(['data', 'preview', file, '--model', MODEL, '--template', 'chatml', '--system-lang', 'zh'], {
      cwd: dir,
    });
    expect(run.code).toBe(0);
    golden('data-preview.chatml.zh.txt', run.stdout.split(dir).join('<tmp>'));
    const rows = [...run.stdout.matchAll(/: (\d+) tokens \((\d+) trained, (\d+) masked, (\d+) image\)/g)].map((m) =>
      m.slice(1).map(Number),
    );
    expect(rows).toHaveLength(3);
    const [total, ...each] = [rows[2]!, rows[0]!, rows[1]!];
    expect(total).toEqual([0, 1, 2, 3].map((k) => each[0]![k]! + each[1]![k]!));
    for (const r of each) expect(r[1]! + r[2]! + r[3]!).toBe(r[0]);
  });

  test('a recipe: its model, data and objective, with a flag overriding the template', async () => {
    const run = await runCliForTest(['data', 'preview', 'recipes/llama-shapes-lora.yaml', '-n', '1', '--template', 'vicuna_v1'], {
      cwd: ROOT,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      'recipes/llama-shapes-lora.yaml (data.train): 1 rows, template vicuna_v1; ⟦masked⟧ text has label -100, the rest trains',
    );
    expect(run.stdout).toContain(
      "⟦<s> A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: ",
    );
  });

  test('a recipe composing its model from parts (init:) previews with the grown tokenizer: <image> expands to the 65 features of the tower', async () => {
    const run = await runCliForTest(['data', 'preview', 'recipes/llava-shapes-stage1.yaml', '-n', '1'], { cwd: ROOT });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/── example "shapes-A-000000-en": \d+ tokens \(\d+ trained, 1 masked, 65 image\)/);
    expect(run.stdout).toContain('⟦<s>⟧<image×65>');
  });

  test('a data file without --model is an input error that says what to add', async () => {
    const { dir, file } = dataFile([zh]);
    const run = await runCliForTest(['data', 'preview', file], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/chat\.jsonl is a data file: say whose tokenizer renders it with --model/);
  });
});
