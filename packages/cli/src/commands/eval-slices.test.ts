// `mmft eval recipe --slice-by/--perturb` on the tiny BLIP-2 over a tiny OPT of probe.test.ts,
// with four caption records in two languages and a `meta.group` field. Checked against independent
// computations: the clean scores and eval loss equal those of the plain `mmft eval recipe` (the
// trainer's eval-only pass) on the same recipe; each slice's scores equal the caption metric fed
// only that slice's answers and references; each gap is perturbed − clean; eval.json, --json and
// report.html are written.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { feedMetrics, fedMetric, parseConfig } from '@mmft/core';
import { captionMetric } from '@mmft/metric-caption';
import type { RobustnessResult } from '../eval/robustness';
import { evalCommand } from './eval';
import { CAPTION_EVAL_RECIPE, createTinyOptBlip2, runCommands, twoColourSvg } from './fixtures.test-helper';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/arch-opt',
  '@mmft/arch-blip2',
  '@mmft/data-jsonl',
  '@mmft/objective-causal-lm',
  '@mmft/metric-caption',
  '@mmft/trainer-standard',
];
const RECORDS = [
  { id: 'ex0', colour: [230, 20, 20], caption: 'a red square', lang: 'en', meta: { group: 'g1' } },
  { id: 'ex1', colour: [20, 200, 40], caption: 'a green circle', lang: 'en', meta: { group: 'g2' } },
  { id: 'ex2', colour: [10, 30, 240], caption: '蓝色的星形', lang: 'zh', meta: { group: 'g1' } },
  { id: 'ex3', colour: [240, 240, 10], caption: '黄色的圆形', lang: 'zh', meta: { group: 'g1' } },
];
let tmp: string;

const writeRecords = () =>
  fs.writeFileSync(
    path.join(tmp, 'eval.jsonl'),
    RECORDS.map(({ id, caption, lang, meta }, i) => JSON.stringify({ id, image: `${i}.svg`, caption, lang, meta })).join('\n') + '\n',
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-slices-'));
  await createTinyOptBlip2(path.join(tmp, 'blip2'), path.join(tmp, 'tokenizer'), { seed: 7 });
  // Two colours per image, so blur and crop change the pixels.
  RECORDS.forEach(({ colour }, i) => fs.writeFileSync(path.join(tmp, `${i}.svg`), twoColourSvg(colour)));
  writeRecords();
  fs.writeFileSync(path.join(tmp, 'eval.yaml'), CAPTION_EVAL_RECIPE);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => runCommands((ctx) => [evalCommand(ctx)], ['eval', 'recipe', ...argv], { cwd: tmp, builtins: BUILTINS });

describe('mmft eval recipe --slice-by --perturb', () => {
  test('clean scores equal the plain evaluation; slices equal the metric on their own records; gaps; files written', async () => {
    // The random model's captions share no word with the records'; a caption prompt does not show
    // the reference, so its answers stay the same when the references change: make ex0 and ex2's
    // references its own answers, so the slices score apart.
    const first = await run(['eval.yaml', '--slice-by', 'lang', '--out', 'first']);
    expect(first.stderr).toBe('');
    const answers = (JSON.parse(fs.readFileSync(path.join(tmp, 'first', 'eval.json'), 'utf8')) as RobustnessResult).clean.predictions;
    for (const id of ['ex0', 'ex2']) {
      expect(answers[id]!.trim()).not.toBe('');
      RECORDS.find((x) => x.id === id)!.caption = answers[id]!;
    }
    writeRecords();
    const plain = await run(['eval.yaml', '--output', 'plain']);
    expect(plain.stderr).toBe('');
    const logged = fs
      .readFileSync(path.join(tmp, 'plain', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.kind === 'eval')!;

    const r = await run([
      'eval.yaml',
      '--slice-by',
      'lang,meta.group',
      '--perturb',
      'blur:1,crop:0.5',
      '--out',
      'sliced',
      '--json',
      'e.json',
    ]);
    expect(r.stderr).toBe('');
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'sliced', 'eval.json'), 'utf8')) as RobustnessResult;
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'e.json'), 'utf8'))).toEqual(json);
    expect(json.examples).toBe(4);
    const keys = Object.keys(json.clean.scores);
    expect(keys).toContain('caption.cider');
    expect(json.clean.predictions).toEqual(answers);
    expect(json.clean.slices['meta.group']![0]!.scores['caption.bleu1']).toBeGreaterThan(0.5);
    for (const k of keys) expect(json.clean.scores[k]).toBeCloseTo(logged[k] as number, 10);
    expect(json.clean.loss).toBeCloseTo(logged.eval_loss as number, 5);

    const metric = () => fedMetric(captionMetric, parseConfig(captionMetric, { tokenizer: 'none' }), 'caption');
    const direct = async (ids: string[], predictions: Record<string, string>) => {
      const inputs = ids.map((id) => ({
        kind: 'text' as const,
        id,
        prediction: predictions[id]!,
        references: [RECORDS.find((x) => x.id === id)!.caption],
      }));
      const [report] = await feedMetrics([metric()], inputs, { name: 'direct', emits: ['text'] });
      return Object.fromEntries(Object.entries(report!.report.scores).map(([k, v]) => [`caption.${k}`, v]));
    };
    const expected = { lang: { en: ['ex0', 'ex1'], zh: ['ex2', 'ex3'] }, 'meta.group': { g1: ['ex0', 'ex2', 'ex3'], g2: ['ex1'] } };
    for (const pass of [json.clean, ...json.perturbations]) {
      expect(await direct(['ex0', 'ex1', 'ex2', 'ex3'], pass.predictions)).toEqual(pass.scores);
      for (const [field, groups] of Object.entries(expected)) {
        const slices = pass.slices[field]!;
        expect(slices.map((s) => [s.value, s.n, s.small])).toEqual(Object.entries(groups).map(([v, ids]) => [v, ids.length, true]));
        for (const s of slices)
          expect(s.scores).toEqual(await direct(groups[s.value as keyof typeof groups] as string[], pass.predictions));
      }
    }
    expect(json.perturbations.map((p) => [p.name, p.unchanged])).toEqual([
      ['blur:1', 0],
      ['crop:0.5', 0],
    ]);
    for (const p of json.perturbations) for (const k of keys) expect(p.gap![k]).toBeCloseTo(p.scores[k]! - json.clean.scores[k]!, 12);
    // Crop keeps the centre, where every image has both colours: the pixels change, so does the loss.
    expect(json.perturbations[1]!.loss).not.toBeCloseTo(json.clean.loss, 6);
    expect(r.stdout).toMatch(/^lang \(clean\)\s+overall n=4\s+en n=2\*\s+zh n=2\*$/m);
    expect(r.stdout).toMatch(/^metric\s+clean\s+blur:1\s+Δ\s+crop:0\.5\s+Δ$/m);
    const html = fs.readFileSync(path.join(tmp, 'sliced', 'report.html'), 'utf8');
    expect(html).toMatch(/<svg[^>]*aria-label="caption\.bleu1 by lang/);
    expect(html).toMatch(/gap by meta\.group under crop:0\.5/);
  });

  test('flags of the sliced evaluation alone are refused, and a bad --perturb names the item', async () => {
    expect((await run(['eval.yaml', '--seed', '1'])).stderr).toMatch(/--seed only apply with --json, --queue, --slice-by or --perturb/);
    expect((await run(['eval.yaml', '--perturb', 'fog'])).stderr).toMatch(/--perturb fog: unknown perturbation/);
    fs.writeFileSync(
      path.join(tmp, 'nockpt.yaml'),
      fs.readFileSync(path.join(tmp, 'eval.yaml'), 'utf8').replace('checkpoint: ./blip2', 'config: {}'),
    );
    expect((await run(['nockpt.yaml', '--slice-by', 'lang'])).stderr).toMatch(
      /nockpt\.yaml: model\.checkpoint is not set, and --slice-by\/--perturb evaluate a saved model/,
    );
  });
});
