// `mmft eval recipe --shots` on the tiny BLIP-2 over a tiny OPT (as eval-slices.test.ts builds it)
// with four caption records that are also the demo pool (data.train). Checked against an
// independent path: each k's scores and eval loss equal those of the trainer's plain eval-only
// pass (`mmft eval recipe` without --shots, metrics.jsonl) on the recipe with
// objective.few_shot.shots = k set by --set; demos change the eval loss; eval.json, --json,
// report.html and the table are written; no tensor is left behind; clashing flags and other objectives are refused.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { ShotsDocument } from '../eval/shots';
import { evalCommand } from './eval';
import { createTinyOptBlip2, runCommands } from './fixtures.test-helper';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/arch-opt',
  '@mmft/arch-blip2',
  '@mmft/data-jsonl',
  '@mmft/objective-causal-lm',
  '@mmft/objective-contrastive',
  '@mmft/metric-caption',
  '@mmft/trainer-standard',
];
const CAPTIONS = ['a red square', 'a green circle', 'a blue star', 'a yellow circle'];
let tmp: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-shots-'));
  await createTinyOptBlip2(path.join(tmp, 'blip2'), path.join(tmp, 'tokenizer'), { seed: 7, maxPositionEmbeddings: 128 });
  CAPTIONS.forEach((_, i) =>
    fs.writeFileSync(
      path.join(tmp, `${i}.svg`),
      `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="rgb(${40 * i},${200 - 40 * i},90)"/></svg>`,
    ),
  );
  fs.writeFileSync(
    path.join(tmp, 'eval.jsonl'),
    CAPTIONS.map((caption, i) => JSON.stringify({ id: `ex${i}`, image: `${i}.svg`, caption })).join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(tmp, 'eval.yaml'),
    [
      'model: { type: blip2, checkpoint: ./blip2 }',
      'data: { train: { type: jsonl, path: ./eval.jsonl }, eval: { type: jsonl, path: ./eval.jsonl } }',
      "objective: { type: causal-lm, max_length: 96, prompts: { caption: 'a photo of' }, generation: { max_new_tokens: 3 }, few_shot: { seed: 5 } }",
      'metrics: [{ type: caption, tokenizer: none }]',
      'train: { type: standard, batch_size: 2, eval_batch_size: 2 }',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => runCommands((ctx) => [evalCommand(ctx)], ['eval', 'recipe', ...argv], { cwd: tmp, builtins: BUILTINS });

/** The eval entry of a plain evaluation's metrics.jsonl. */
const plainEval = (dir: string) =>
  fs
    .readFileSync(path.join(tmp, dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e.kind === 'eval')!;

describe('mmft eval recipe --shots', () => {
  test('each k scores as the plain evaluation with objective.few_shot.shots = k; files and table written', async () => {
    const r = await run(['eval.yaml', '--shots', '2,0', '--out', 'sweep', '--json', 's.json']);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(fs.readFileSync(path.join(tmp, 'sweep', 'eval.json'), 'utf8')) as ShotsDocument;
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 's.json'), 'utf8'))).toEqual(doc);
    expect(doc.recipe).toBe(path.join(tmp, 'eval.yaml'));
    expect(doc.modelType).toBe('blip-2');
    expect(doc.examples).toBe(4);
    expect(doc.shots.map((e) => e.shots)).toEqual([0, 2]);
    for (const entry of doc.shots) {
      const plain = await run(['eval.yaml', '--set', `objective.few_shot.shots=${entry.shots}`, '--output', `plain${entry.shots}`]);
      expect(plain.stderr).toBe('');
      const logged = plainEval(`plain${entry.shots}`);
      expect(Object.keys(entry.metrics)).toContain('caption.cider');
      for (const [k, v] of Object.entries(entry.metrics)) expect(v).toBeCloseTo(logged[k] as number, 10);
      expect(entry.evalLoss).toBeCloseTo(logged.eval_loss as number, 5);
      expect(Object.keys(entry.predictions).sort()).toEqual(['ex0', 'ex1', 'ex2', 'ex3']);
    }
    // Two captions in front of each query change what the model conditions on, hence its loss on the query's caption.
    expect(doc.shots[1]!.evalLoss).not.toBeCloseTo(doc.shots[0]!.evalLoss!, 4);
    expect(r.stdout).toMatch(/^metric \(4 examples\)\s+0-shot\s+2-shot$/m);
    expect(r.stdout).toMatch(/^caption\.cider\s+\d+\.\d{4}\s+\d+\.\d{4}$/m);
    expect(r.stdout).toMatch(/^eval_loss\s+\d+\.\d{4}\s+\d+\.\d{4}$/m);
    const html = fs.readFileSync(path.join(tmp, 'sweep', 'report.html'), 'utf8');
    expect(html).toContain('<title>mmft eval: eval.yaml (blip-2) at 0, 2 shots</title>');
    expect(html).toMatch(/font-weight="bold">caption\.cider</);

    // A sweep frees what it built: the model and each k's objective and batches.
    const before = tf.memory().numTensors;
    expect((await run(['eval.yaml', '--shots', '1,3', '--n', '2', '--out', 'again'])).stderr).toBe('');
    expect(tf.memory().numTensors).toBe(before);
  });

  test('--shots with --slice-by or --seed, a bad list, and another objective are refused', async () => {
    expect((await run(['eval.yaml', '--shots', '0,2', '--slice-by', 'lang'])).stderr).toMatch(/--shots does not combine with --slice-by/);
    expect((await run(['eval.yaml', '--shots', '0,2', '--seed', '1'])).stderr).toMatch(/--shots does not combine with --seed/);
    expect((await run(['eval.yaml', '--shots', '0,x'])).stderr).toMatch(
      /--shots takes comma-separated whole numbers ≥ 0 \(e\.g\. 0,2,4\), got "x"/,
    );
    fs.writeFileSync(
      path.join(tmp, 'contrastive.yaml'),
      fs.readFileSync(path.join(tmp, 'eval.yaml'), 'utf8').replace(/^objective: .*$/m, 'objective: { type: contrastive }'),
    );
    expect((await run(['contrastive.yaml', '--shots', '0,2'])).stderr).toMatch(
      /contrastive\.yaml: --shots needs the causal-lm objective \(objective\.few_shot\), but the recipe's objective is contrastive/,
    );
  });
});
