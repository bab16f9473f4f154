// train.report_to: a short run on the tiny fixtures writes a TensorBoard event file, read back by
// the independent reader scripts/read-tfevents.py (python3 stdlib, its own CRC32C and protobuf
// decoder) and compared with metrics.jsonl.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunContext } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { tensorboardReporter } from '@mmft/reporter-tensorboard';
import { recordingReporter, registry } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';
import { entryScalars, openTracking, PredictionSamples, resolveReporters } from './tracking';
import { denormalise, exampleText } from './sample-images';

const READER = path.resolve(__dirname, '../../../../../scripts/read-tfevents.py');

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-tb-run-'));

function context(outputDir: string, withTensorboard = true): RunContext {
  return {
    recipe: {
      name: 'tiny',
      seed: 7,
      model: { type: 'tiny-dual', config: { seed: 3 } },
      data: { train: { type: 'memory', name: 'train' }, eval: { type: 'memory', name: 'eval' } },
      loss: { type: 'test-infonce' },
      metrics: [{ type: 'retrieval' }],
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry(withTensorboard ? [tensorboardReporter] : []),
    reporter: recordingReporter(),
  };
}

interface ReadValue {
  tag: string;
  simple_value?: number;
  plugin_name?: string;
  tensor?: { dtype: number; string_val: string[] };
  image?: { height: number; width: number; colorspace: number; png: boolean; bytes: number };
}
interface ReadEvent {
  step: number;
  wall_time: number;
  file_version?: string;
  values?: ReadValue[];
}
const read = (dir: string) =>
  JSON.parse(execFileSync('python3', [READER, dir], { encoding: 'utf8' })) as { file: string; events: ReadEvent[] }[];

describe('train.report_to', () => {
  test('a 3-step run with eval writes scalars, eval scores and the recipe that the independent reader finds', async () => {
    const dir = tmp();
    const config = trainConfigSchema.parse({ batch_size: 4, max_steps: 3, eval_every: 2, lr: 1e-2, eval_before: true });
    await runTraining(config, context(dir));
    const files = read(path.join(dir, 'tensorboard'));
    expect(files).toHaveLength(1);
    expect(files[0]!.file).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d+\\..+\\.${process.pid}\\.\\d+$`));
    const events = files[0]!.events;
    expect(events[0]!.file_version).toBe('brain.Event:2');
    const recipe = events.find((e) => e.values?.[0]?.tag === 'recipe')!;
    expect(recipe.step).toBe(0);
    expect(recipe.values![0]!.plugin_name).toBe('text');
    expect(recipe.values![0]!.tensor!.dtype).toBe(7);
    expect(recipe.values![0]!.tensor!.string_val[0]).toContain('```yaml\nname: tiny\nseed: 7\n');

    // The first batch's images (the fixture's 4x4 processor, batch 4) with their texts, at step 1.
    const images = events.flatMap((e) => (e.values ?? []).filter((v) => v.image).map((v) => ({ step: e.step, tag: v.tag, ...v.image! })));
    expect(images.map((i) => i.tag)).toEqual(['samples/0', 'samples/1', 'samples/2', 'samples/3']);
    for (const image of images) expect(image).toMatchObject({ step: 1, height: 4, width: 4, colorspace: 3, png: true });
    const captions = events.flatMap((e) => (e.values ?? []).filter((v) => v.tag.startsWith('samples/') && v.tensor));
    expect(captions).toHaveLength(4);
    expect(captions[0]!.tensor!.string_val[0]).toMatch(/^a (big|small) (\w+) square\n\na \2 square$/);

    const jsonl = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    const scalars = (step: number, prefix: string) =>
      Object.fromEntries(
        events
          .filter((e) => e.step === step)
          .flatMap((e) => e.values ?? [])
          .filter((v) => v.simple_value !== undefined && v.tag.startsWith(prefix))
          .map((v) => [v.tag, v.simple_value!]),
      );
    const trains = jsonl.filter((e) => e.kind === 'train');
    expect(trains.map((e) => e.step)).toEqual([1, 2, 3]);
    for (const entry of trains) {
      const got = scalars(entry.step as number, 'train/');
      // simple_value is a float32: compare with the jsonl's float64 rounded the same way.
      for (const key of ['loss', 'lr', 'grad_norm', 'epoch']) expect(got[`train/${key}`]).toBe(Math.fround(entry[key] as number));
      expect(got['train/samples_per_second']).toBeGreaterThan(0);
      expect(got['train/rss_mib']).toBeGreaterThan(1);
      expect(got['train/peak_tensor_mib']).toBeGreaterThan(0);
    }
    const evals = jsonl.filter((e) => e.kind === 'eval');
    expect(evals.map((e) => e.step)).toEqual([0, 2, 3]);
    for (const entry of evals) {
      const want = Object.fromEntries(Object.entries(entryScalars('eval', entry)).map(([k, v]) => [k, Math.fround(v)]));
      expect(Object.keys(want).length).toBeGreaterThan(1);
      expect(scalars(entry.step as number, 'eval/')).toEqual(want);
    }
  });

  test('a corrupted byte fails the independent reader (it checks every CRC)', async () => {
    const dir = tmp();
    await runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1 }), context(dir));
    const tb = path.join(dir, 'tensorboard');
    const file = path.join(tb, fs.readdirSync(tb)[0]!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 6] ^= 0x40;
    fs.writeFileSync(file, bytes);
    const result = spawnSync('python3', [READER, file], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bad data CRC at byte \d+/);
  });

  test('the reader\'s own CRC32C gives the known vectors ("123456789" is 0xE3069283; 32 zero bytes 0x8A9136AA)', () => {
    const code = `import importlib.util as u; s = u.spec_from_file_location('r', ${JSON.stringify(READER)}); m = u.module_from_spec(s); s.loader.exec_module(m); print(m.crc32c(b'123456789'), m.crc32c(bytes(32)))`;
    expect(execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim()).toBe(`${0xe3069283} ${0x8a9136aa}`);
  });

  test('[] and none write nothing; absent writes nothing when no tensorboard plugin is loaded', async () => {
    const cases = [
      [[], true],
      ['none', true],
      [undefined, false],
      [undefined, true],
    ] as const;
    const wrote = [];
    for (const [reportTo, withTb] of cases) {
      const outputDir = tmp();
      const reporters = resolveReporters(
        trainConfigSchema.parse({ report_to: reportTo }).report_to,
        registry(withTb ? [tensorboardReporter] : []),
      );
      const tracker = await openTracking(reporters, { outputDir, runName: 'x' });
      tracker.scalars(1, { 'train/loss': 1 });
      await tracker.close();
      wrote.push(fs.existsSync(path.join(outputDir, 'tensorboard')));
    }
    // Only the last: absent with the plugin loaded means [tensorboard].
    expect(wrote).toEqual([false, false, false, true]);
  });

  test('an unknown reporter id fails before the run loads anything, listing the loaded ones', async () => {
    expect(() => resolveReporters(['tensorboard', 'wandb'], registry([tensorboardReporter]))).toThrow(
      expect.objectContaining({
        message: 'train.report_to names reporter "wandb", which no loaded plugin provides',
        hint: 'use one of: tensorboard, or report_to: [] to turn tracking off',
      }),
    );
    const dir = tmp();
    await expect(runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1, report_to: ['wandb'] }), context(dir))).rejects.toThrow(
      'train.report_to names reporter "wandb"',
    );
    expect(fs.existsSync(path.join(dir, 'metrics.jsonl'))).toBe(false);
  });

  test('denormalise: x * std + mean per channel, clamped, to 0..255 RGB in HWC order (worked by hand)', async () => {
    // One 1x2 image: R = [0, 1], G = [-1, -3], B = [0.5, 3]; mean 0.5 / std 0.5 except B (mean 0, std 0.2).
    const pixels = tf.tensor4d([0, 1, -1, -3, 0.5, 3], [1, 3, 1, 2]);
    const [image] = await denormalise(pixels, { mean: [0.5, 0.5, 0], std: [0.5, 0.5, 0.2] }, 4);
    // R: 0.5, 1 -> 128, 255; G: 0, -1 -> 0, 0; B: 0.1, 0.6 -> 26, 153.
    expect(image).toEqual({ width: 2, height: 1, rgb: new Uint8Array([128, 0, 26, 255, 0, 153]) });
    expect(await denormalise(tf.zeros([2, 1, 4, 4]), undefined, 4)).toEqual([]);
    pixels.dispose();
    expect(exampleText({ task: 'vqa', id: 'q', image: { kind: 'file', path: 'a.png' }, question: 'What?', answer: 'a cat' })).toBe(
      'Q: What?\n\nA: a cat',
    );
  });

  test('prediction samples: first 8 text / vqa / instruction inputs as a markdown table, retrieval ignored', () => {
    const samples = new PredictionSamples();
    expect(samples.markdown()).toBeUndefined();
    samples.add([{ kind: 'retrieval', images: [] }]);
    samples.add(
      Array.from({ length: 10 }, (_, i) => ({ kind: 'text' as const, id: `c${i}`, prediction: `a|b ${i}`, references: ['x', 'y'] })),
    );
    const lines = samples.markdown()!.split('\n');
    expect(lines).toHaveLength(2 + 8);
    expect(lines[0]).toBe('| id | prediction | reference |');
    expect(lines[2]).toBe('| c0 | a\\|b 0 | x / y |');
    const chat = new PredictionSamples(1);
    chat.add([{ kind: 'instruction', id: 'q', prediction: 'two', reference: 'Two circles.', instruction: 'How many?\nCount.' }]);
    expect(chat.markdown()!.split('\n')[2]).toBe('| q | How many? Count. | two | Two circles. |');
  });
});
