// `mmft eval recipe --json` and `--queue`: the tiny BLIP-2 over a tiny OPT (as eval-slices.test.ts)
// on six caption records, batches of 2. Checked against independent computations: the single-process
// --json scores equal the trainer's eval-only pass (metrics.jsonl); two workers on a real Redis with
// shards of 2 and 4 examples (one shard failing once and retried) write exactly the same JSON.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { useTestRedis } from '../queue/redis-hooks.test-helper';
import { runWorker } from '../queue/worker';
import { evalCommand } from './eval';
import { captureContext, CAPTION_EVAL_RECIPE, createTinyOptBlip2, runCommands, twoColourSvg } from './fixtures.test-helper';

const BUILTINS = [
  '@mmft/backend-tfjs',
  '@mmft/arch-opt',
  '@mmft/arch-blip2',
  '@mmft/data-jsonl',
  '@mmft/objective-causal-lm',
  '@mmft/metric-caption',
  '@mmft/trainer-standard',
];
const CAPTIONS = ['a red square', 'a green circle', 'a blue star', 'a yellow circle', 'a red circle', 'a green star'];
const COLOURS = [
  [230, 20, 20],
  [20, 200, 40],
  [10, 30, 240],
  [240, 240, 10],
  [200, 40, 40],
  [30, 220, 90],
];
let tmp: string;
const redis = useTestRedis();

const writeRecords = () =>
  fs.writeFileSync(
    path.join(tmp, 'eval.jsonl'),
    CAPTIONS.map((caption, i) => JSON.stringify({ id: `ex${i}`, image: `${i}.svg`, caption, lang: 'en' })).join('\n') + '\n',
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-eval-queue-'));
  await createTinyOptBlip2(path.join(tmp, 'blip2'), path.join(tmp, 'tokenizer'), { seed: 7 });
  COLOURS.forEach((colour, i) => fs.writeFileSync(path.join(tmp, `${i}.svg`), twoColourSvg(colour)));
  writeRecords();
  fs.writeFileSync(path.join(tmp, 'eval.yaml'), CAPTION_EVAL_RECIPE);
}, 30_000);
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const context = () => captureContext(tmp, BUILTINS);
const run = (argv: string[]) => runCommands((ctx) => [evalCommand(ctx)], ['eval', 'recipe', ...argv], { cwd: tmp, builtins: BUILTINS });

const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(tmp, file), 'utf8')) as Record<string, unknown>;

describe('mmft eval recipe --json / --queue', () => {
  test('one process: the scores of the trainer eval-only pass, bit for bit, and the caption metric object', async () => {
    // The random model's captions share no word with the records': make half of the references its
    // own answers (read from a sliced pass), so the caption scores are not all zero.
    expect((await run(['eval.yaml', '--slice-by', 'lang', '--out', 'sliced'])).stderr).toBe('');
    const answers = (readJson('sliced/eval.json') as { clean: { predictions: Record<string, string> } }).clean.predictions;
    for (const i of [0, 2, 4]) CAPTIONS[i] = answers[`ex${i}`]!;
    writeRecords();
    const plain = await run(['eval.yaml', '--output', 'plain']);
    expect(plain.stderr).toBe('');
    const logged = fs
      .readFileSync(path.join(tmp, 'plain', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>)
      .find((e) => (e.kind as unknown) === 'eval')!;
    const single = await run(['eval.yaml', '--json', 'single.json']);
    expect(single.stderr).toBe('');
    const doc = readJson('single.json');
    expect(Object.keys(doc)).toEqual(['recipe', 'examples', 'eval_loss', 'perplexity', 'caption']);
    expect(doc.recipe).toBe(path.join(tmp, 'eval.yaml'));
    expect(doc.examples).toBe(6);
    expect(doc.eval_loss).toBe(logged.eval_loss);
    expect(doc.perplexity).toBe(Math.exp(logged.eval_loss!));
    const caption = doc.caption as Record<string, unknown>;
    for (const k of ['bleu1', 'bleu2', 'bleu3', 'bleu4', 'rougeL', 'cider']) expect(caption[k]).toBe(logged[`caption.${k}`]);
    expect(caption.bleu1).toBeGreaterThan(0.1);
    const perItem = caption.per_item as Record<string, Record<string, number>>;
    expect(Object.keys(perItem)).toEqual(CAPTIONS.map((_, i) => `ex${i}`));
    expect(single.stdout).toMatch(/^caption\.cider\s+[\d.]+$/m);
  }, 60_000);

  test('two workers, shards of 2 and of 4 (one failing once): the same JSON as one process', async () => {
    const queue = redis.url;
    const workers = [context(), context()];
    const running = workers.map((ctx) => runWorker(ctx, { queue, idleExit: 1 }));
    try {
      const two = await run(['eval.yaml', '--queue', queue, '--shard-size', '2', '--json', 'two.json']);
      expect(two.stderr).toBe('');
      expect(two.stdout).toContain('eval: 6 examples in 3 shards of 2');
      expect(two.stdout).toContain('eval: 3/3 shards');
      process.env.MMFT_QUEUE_FAIL_ONCE = '1';
      const four = await run(['eval.yaml', '--queue', queue, '--shard-size', '4', '--json', 'four.json']);
      delete process.env.MMFT_QUEUE_FAIL_ONCE;
      expect(four.stderr).toBe('');
      expect(four.stdout).toMatch(/eval: shard 2 failed \(attempt 1 of 3\), retrying: test fault/);
    } finally {
      delete process.env.MMFT_QUEUE_FAIL_ONCE;
    }
    await Promise.all(running);
    const single = readJson('single.json');
    expect(readJson('two.json')).toEqual(single);
    expect(readJson('four.json')).toEqual(single);
    const lines = workers.flatMap((w) => w.out().split('\n')).filter((l) => / done in /.test(l));
    expect(lines).toHaveLength(5);
  }, 60_000);

  test('refusals: a shard size that is no multiple of the batch, --shard-size without --queue, --queue with --slice-by, no Redis', async () => {
    expect((await run(['eval.yaml', '--queue', redis.url, '--shard-size', '3', '--json', 'x.json'])).stderr).toBe(
      '--shard-size 3 is not a multiple of the batch size 2',
    );
    expect((await run(['eval.yaml', '--shard-size', '2', '--json', 'x.json'])).stderr).toBe(
      'mmft eval recipe: --shard-size only applies with --queue',
    );
    expect((await run(['eval.yaml', '--queue', redis.url, '--slice-by', 'lang'])).stderr).toBe(
      'mmft eval recipe: --queue does not combine with --slice-by',
    );
    expect((await run(['eval.yaml', '--queue', 'http://127.0.0.1:1', '--json', 'x.json'])).stderr).toMatch(/the queue is a Redis server/);
  });
});
