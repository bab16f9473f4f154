// Dataset "mix" through the CLI with real providers (shapes + jsonl): `mmft data preview` shows the
// sources in concat order with a source's relative path resolved from the recipe's folder, and
// `mmft eval recipe` scores one mixed eval set with caption and VQA metrics, each metric fed only
// the examples of its input kind (so its scores equal those on that source alone).
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliForTest } from '@mmft/cli/testing';

const MODEL = path.join(__dirname, '..', '..', 'models', 'blip2-shapes-base');
const CAPTIONS = '{ type: shapes, task: caption, domain: A, lang: en, n: 4, seed: 1003 }';
const QUESTIONS = '{ type: shapes, task: vqa, domain: A, lang: en, n: 2, seed: 1004 }';

function recipe(dir: string, name: string, evalSection: string, metrics = ['{ type: caption, tokenizer: ptb }', '{ type: vqa }']): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    [
      'seed: 0',
      'model:',
      '  type: blip2',
      `  checkpoint: ${JSON.stringify(MODEL)}`,
      'data:',
      '  train: { type: shapes, task: caption, domain: A, n: 4, seed: 1 }',
      `  eval: ${evalSection}`,
      'objective:',
      '  type: causal-lm',
      '  max_length: 64',
      '  generation: { max_new_tokens: 16 }',
      'metrics:',
      ...metrics.map((m) => `  - ${m}`),
      'train: { type: standard, eval_batch_size: 8 }',
      '',
    ].join('\n'),
  );
  return file;
}

const scoreOf = (stdout: string, name: string) => Number(new RegExp(`${name.replace('.', '\\.')}\\s+([\\d.]+)`).exec(stdout)?.[1]);

describe('dataset mix through the CLI', () => {
  test('data preview: sources in order, a jsonl source found relative to the recipe file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-mix-'));
    fs.mkdirSync(path.join(dir, 'sub'));
    const chat = {
      id: 'c1',
      conversations: [
        { from: 'human', value: 'Say hello.' },
        { from: 'gpt', value: 'Hello.' },
      ],
    };
    fs.writeFileSync(path.join(dir, 'sub', 'chat.jsonl'), `${JSON.stringify(chat)}\n`);
    const file = recipe(dir, 'mix.yaml', `{ type: mix, sources: [${CAPTIONS}, ${QUESTIONS}, { type: jsonl, path: sub/chat.jsonl }] }`);
    const run = await runCliForTest(['data', 'preview', file, '--split', 'eval', '-n', '20'], { cwd: os.tmpdir() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const ids = [...run.stdout.matchAll(/── example "([^"]+)"/g)].map((m) => m[1]);
    // 4 captions, then 2 scenes × 3 questions, then the conversation.
    expect(ids).toEqual([
      ...[0, 1, 2, 3].map((k) => `shapes-A-00000${k}-en`),
      ...[0, 1].flatMap((k) => [0, 1, 2].map((q) => `shapes-A-00000${k}-en-q${q}`)),
      'c1',
    ]);
    expect(run.stdout).toContain(`${path.join(dir, 'sub', 'chat.jsonl')}:1`);
  });

  test('a source with an unknown key is refused naming its recipe path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-mix-'));
    const file = recipe(dir, 'bad.yaml', `{ type: mix, sources: [${CAPTIONS}, { type: shapes, task: vqa, domian: A }] }`);
    const run = await runCliForTest(['data', 'preview', file, '--split', 'eval']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('data.eval.sources[1].domian: unknown key; did you mean "domain"?');
  });

  test('eval recipe: one mixed eval set feeds caption and vqa metrics, each only its own examples', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-mix-eval-'));
    const evalOf = async (name: string, section: string, metrics?: string[]) => {
      const file = recipe(dir, `${name}.yaml`, section, metrics);
      const run = await runCliForTest(['eval', 'recipe', file, '--output', path.join(dir, name)]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return run.stdout;
    };
    const mixed = await evalOf('mixed', `{ type: mix, sources: [${QUESTIONS}, ${CAPTIONS}] }`);
    const captions = await evalOf('captions', CAPTIONS, ['{ type: caption, tokenizer: ptb }']);
    const questions = await evalOf('questions', QUESTIONS, ['{ type: vqa }']);
    for (const name of ['caption.bleu4', 'caption.cider']) {
      expect(scoreOf(mixed, name)).toBeGreaterThan(0);
      expect(scoreOf(mixed, name)).toBe(scoreOf(captions, name));
    }
    expect(scoreOf(mixed, 'vqa.accuracy')).toBe(scoreOf(questions, 'vqa.accuracy'));
  });
});
