// Output folders of `mmft train` / `mmft eval recipe` on the demo recipe, cut down to a few steps:
// an earlier run is never replaced silently, a kill between the two renames of a checkpoint swap
// is repaired on --resume, and `eval recipe --adapter` scores the trained adapter.
import 'reflect-metadata';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliForTest } from '@mmft/cli/testing';

const RECIPE = path.join(__dirname, '..', '..', 'recipes', 'clip-shapes-lora.yaml');
const SMALL = [
  'train.max_steps=2',
  'train.warmup_steps=0',
  'train.batch_size=8',
  'train.eval_batch_size=16',
  'train.log_every=1',
  'data.train.n=16',
  'data.eval.n=16',
].flatMap((s) => ['--set', s]);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-out-'));
});

const train = (out: string, ...extra: string[]) => runCliForTest(['train', RECIPE, ...SMALL, '--output', out, ...extra]);
const evalLines = (out: string) =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>)
    .filter((e) => e.kind === 'eval');

describe('train --output over an earlier run', () => {
  test('refused with what would be replaced; --force starts over, --resume continues', async () => {
    const out = path.join(tmp, 'run');
    expect((await train(out)).code).toBe(0);
    const again = await train(out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`--output ${out} is not empty: it holds an earlier run (checkpoint-last at step 2)`);
    expect(again.stderr).toMatch(/writing there would replace checkpoint-best, checkpoint-last, metrics\.jsonl, report\.html/);
    expect(again.stderr).toContain(`hint: pass --force to replace it, or --resume ${path.join(out, 'checkpoint-last')} to continue it`);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const forced = await train(out, '--force');
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine'); // --force replaces the run's files only
    const resumed = await train(out, '--set', 'train.max_steps=3', '--resume', path.join(out, 'checkpoint-last'));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('done: 3 steps');
  });

  test('the model folder of the recipe is never an output', async () => {
    const base = path.join(__dirname, '..', '..', 'models', 'clip-shapes-base');
    const r = await train(base, '--force');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--output ${base} is the model.checkpoint folder`);
  });
});

describe('--resume after a kill between the two renames of a checkpoint swap', () => {
  test('the newest complete copy becomes checkpoint-last again, and the run says so', async () => {
    const out = path.join(tmp, 'killed');
    expect((await train(out)).code).toBe(0);
    const last = path.join(out, 'checkpoint-last');
    // What a kill between "checkpoint-last -> .old" and ".tmp -> checkpoint-last" leaves.
    fs.cpSync(last, path.join(out, '.checkpoint-last.old-99999999-aa11'), { recursive: true });
    fs.renameSync(last, path.join(out, '.checkpoint-last.tmp-99999999-aa11'));
    const r = await train(out, '--set', 'train.max_steps=3', '--resume', last);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `resume: ${last} was missing (a checkpoint write was interrupted); restored the complete copy .checkpoint-last.tmp-99999999-aa11`,
    );
    expect(r.stdout).toContain('done: 3 steps');
    expect(fs.readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('mmft eval recipe --adapter', () => {
  test("scores the trained adapter: the same numbers as the run's last evaluation", async () => {
    const out = path.join(tmp, 'lora');
    expect((await train(out, '--set', 'train.lr=0.01')).code).toBe(0);
    const trained = evalLines(out).at(-1)!;
    const adapter = path.join(out, 'checkpoint-last', 'adapter');
    const scored = path.join(tmp, 'scored');
    const r = await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--adapter', adapter, '--output', scored]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = evalLines(scored)[0]!;
    for (const key of ['retrieval.i2t_R@1', 'retrieval.t2i_R@5', 'eval_loss']) expect(got[key]).toBeCloseTo(trained[key] as number, 4);
    const fresh = await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--output', path.join(tmp, 'fresh')]);
    expect(evalLines(path.join(tmp, 'fresh'))[0]!.eval_loss).not.toBeCloseTo(trained.eval_loss as number, 4);
    expect(fresh.code).toBe(0);
    // an earlier eval folder is replaced without --force; a training run is not
    expect((await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--adapter', adapter, '--output', scored])).code).toBe(0);
    const onRun = await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--output', out]);
    expect(onRun.stderr).toContain(`--output ${out} is not empty: it holds an earlier run`);
  });
});
