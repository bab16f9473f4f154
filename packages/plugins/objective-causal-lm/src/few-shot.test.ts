// Several images per row, interleaved documents and few-shot episodes, on the toy bridge of
// toy-bridge.test-helper.ts: 'placeholder' with count 3 (LLaVA-like) or 1 (IDEFICS-like), 'prefix'
// and model-placed (BLIP-2-like), and the tiny causal LM alone.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { recipePath, resolvePathFields, type DatasetProvider, type Example, type ImageRef, type ProviderResolver } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { deriveSeed, preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import { renderTemplate, resolvePrompt } from '@mmft/text';
import { causalLmConfigSchema } from './config';
import { IGNORE_INDEX } from './encode';
import { drawDemos, drawShots, imageKey, readPool } from './episodes';
import { causalLmProvider } from './plugin';
import {
  bare,
  bridge,
  caption,
  COUNT,
  contextOf,
  create,
  datasetOf,
  eos,
  errorOf,
  IMAGE_ID,
  ignored,
  lm,
  MEAN,
  png,
  rows,
  SIDE,
  source,
  span,
  STD,
  text,
  tok,
  vqa,
} from './toy-bridge.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const [red, green, blue] = [png('red'), png('green'), png('blue')];
const options = preprocessOptionsSchema.parse({ size: SIDE, cropSize: SIDE, mean: [...MEAN], std: [...STD] });
/** The pixels objective.ts must produce for `image` with seed `seed` (@mmft/image itself). */
const pixelsOf = async (image: ImageRef, seed: number) => Array.from((await preprocessResolved(image, options, seed)).data);
const pixelRow = (t: tf.Tensor, i: number) => Array.from(tf.slice(t, [i, 0, 0, 0], [1, 3, SIDE, SIDE]).dataSync());
const two = (id: string, content: string): Example => ({
  id,
  task: 'instruction',
  turns: [
    { role: 'user', content },
    { role: 'assistant', content: 'red then green' },
  ],
  image: red,
  images: [red, green],
  source,
});
const doc = (id: string, segments: Array<{ image: ImageRef } | { text: string }>): Example => ({
  id,
  task: 'interleaved',
  segments,
  source,
});
/** Ids and labels of a caption's plain row with the image mark in front ('placeholder'): span, "\na photo of", the caption, eos. */
const captionRow = (words: string, n = COUNT, trained = true) => {
  const prompt = bare('\na photo of');
  const full = [...bare(`\na photo of ${words}`), eos];
  const ids = [...new Array<number>(n).fill(IMAGE_ID), ...full];
  const labels = [...ignored(n + prompt.length), ...(trained ? full.slice(prompt.length) : ignored(full.length - prompt.length))];
  return { ids, labels };
};

describe('several images in one row', () => {
  test("'placeholder': one span per <image> mark in order; pixelValues [ΣN, 3, S, S] row by row, each image seeded (seed, epoch, position[, j])", async () => {
    const model = bridge('placeholder');
    const objective = await create({ template: 'plain' }, model);
    const batch = await objective.collate([two('m1', 'Compare <image> and <image>?'), caption('c1', ['a blue circle'], blue)], {
      epoch: 1,
      positions: [4, 5],
    });
    const ids = rows(batch.inputs.inputIds!);
    const row0 = [...bare('USER: Compare '), ...span, ...bare(' and '), ...span, ...bare('? ASSISTANT: red then green'), eos];
    expect(ids[0]!.slice(0, row0.length)).toEqual(row0);
    expect(ids[1]!.slice(0, captionRow('a blue circle').ids.length)).toEqual(captionRow('a blue circle').ids);
    const pixels = batch.inputs.pixelValues!;
    expect(pixels.shape).toEqual([3, 3, SIDE, SIDE]);
    // The first image of a row keeps the one-image seed (seed, epoch, position); the j-th adds j.
    expect(pixelRow(pixels, 0)).toEqual(await pixelsOf(red, deriveSeed(11, 1, 4)));
    expect(pixelRow(pixels, 1)).toEqual(await pixelsOf(green, deriveSeed(11, 1, 4, 1)));
    expect(pixelRow(pixels, 2)).toEqual(await pixelsOf(blue, deriveSeed(11, 1, 5)));
    // The toy bridge checks image tokens = images × count, as LLaVA's embedInputsWithImages does.
    const loss = objective.loss(batch);
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    loss.dispose();
    batch.dispose();
  });

  test('the number of <image> marks must equal the number of images (E_DATA naming file:line)', async () => {
    const objective = await create({ template: 'plain' }, bridge('placeholder'));
    const one = await errorOf(() => objective.collate([two('m2', 'Compare <image> with the other?')], { epoch: 0, positions: [0] }));
    expect(one.message).toBe('example "m2" (data/train.jsonl:3) has 1 <image> marks and 2 images');
    const three = await errorOf(() => objective.collate([two('m3', '<image> <image> <image>?')], { epoch: 0, positions: [0] }));
    expect(three.message).toBe('example "m3" (data/train.jsonl:3) has 3 <image> marks and 2 images');
  });

  test("'prefix' and model-placed images read one image per row: more is E_DATA", async () => {
    for (const placement of ['prefix', 'model'] as const) {
      const objective = await create({ template: 'plain' }, bridge(placement));
      const error = await errorOf(() => objective.collate([two('m4', 'Compare <image> and <image>?')], { epoch: 0, positions: [0] }));
      expect(error.message).toBe('example "m4" (data/train.jsonl:3) has 2 images; model "toy-bridge" reads one image per row');
    }
  });
});

describe('interleaved documents', () => {
  const document = doc('d1', [{ image: red }, { text: 'a red circle.' }, { image: green }, { text: ' a green square.' }]);

  test('IDEFICS-like (one token per image): <image> where each image stands, every text a target, eos at the end, with any template', async () => {
    for (const template of ['plain', 'chatml', 'llava_v1']) {
      const objective = await create({ template }, bridge('placeholder', 1));
      const batch = await objective.collate([document], { epoch: 0, positions: [0] });
      const [a, b] = [bare('a red circle.'), bare(' a green square.')];
      expect(rows(batch.inputs.inputIds!)[0]).toEqual([IMAGE_ID, ...a, IMAGE_ID, ...b, eos]);
      expect(rows(batch.inputs.labels!)[0]).toEqual([IGNORE_INDEX, ...a, IGNORE_INDEX, ...b, eos]);
      // labelCount skips position 0 (an image here): every text token and eos count.
      expect(batch.count).toBe(a.length + b.length + 1);
      expect(pixelRow(batch.inputs.pixelValues!, 0)).toEqual(await pixelsOf(red, deriveSeed(11, 0, 0)));
      expect(pixelRow(batch.inputs.pixelValues!, 1)).toEqual(await pixelsOf(green, deriveSeed(11, 0, 0, 1)));
      batch.dispose();
    }
  });

  test('a language model reads the texts alone; a prefix bridge takes a one-image document with its image in front', async () => {
    const alone = await create({ template: 'plain' }, lm);
    const batch = await alone.collate([document], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...bare('a red circle. a green square.'), eos]);
    expect(batch.inputs.pixelValues).toBeUndefined();
    batch.dispose();
    const prefix = await create({ template: 'plain' }, bridge('prefix'));
    const single = await prefix.collate([doc('d2', [{ text: 'Look:' }, { image: red }, { text: ' a red circle.' }])], {
      epoch: 0,
      positions: [0],
    });
    expect(rows(single.inputs.inputIds!)[0]).toEqual([...span, ...bare('Look: a red circle.'), eos]);
    expect(single.inputs.pixelValues!.shape).toEqual([1, 3, SIDE, SIDE]);
    single.dispose();
    const error = await errorOf(() => prefix.collate([document], { epoch: 0, positions: [0] }));
    expect(error.message).toContain('has 2 images; model "toy-bridge" reads one image per row');
  });
});

describe('few-shot draws', () => {
  const query = caption('q', ['a red circle'], red);
  const pool = [
    caption('s1', ['a green square'], green),
    caption('s2', ['a blue circle'], blue),
    caption('s3', ['a red square'], red),
    query,
    vqa('v1', 'What is blue?', 'the circle', blue),
    text('t1', 'no demo'),
  ];

  test('k distinct demos of the same task, never the example itself nor its image; deterministic in (seed, epoch, position)', async () => {
    const grouped = await readPool(datasetOf(pool));
    expect(grouped.get('caption')!.map((e) => e.id)).toEqual(['s1', 's2', 's3', 'q']);
    expect(grouped.get('vqa')!.map((e) => e.id)).toEqual(['v1']);
    const seen = new Set<string>();
    for (let position = 0; position < 20; position += 1) {
      const demos = drawDemos(grouped, query, 2, 7, 0, position, 'data.train');
      expect(demos).toEqual(drawDemos(grouped, query, 2, 7, 0, position, 'data.train'));
      // Only s1 and s2 qualify: q is the query, s3 shows the query's image.
      expect(demos.map((d) => d.id).sort()).toEqual(['s1', 's2']);
      expect(demos.every((d) => d.task === 'caption' && imageKey(d.image!) !== imageKey(red))).toBe(true);
      seen.add(demos.map((d) => d.id).join());
    }
    // Both orders occur across positions (2 of 2 candidates: only the order is drawn).
    expect([...seen].sort()).toEqual(['s1,s2', 's2,s1']);
    expect(drawDemos(grouped, text('t2', 'x'), 2, 7, 0, 0, 'data.train')).toEqual([]);
    expect(drawDemos(grouped, query, 0, 7, 0, 0, 'data.train')).toEqual([]);
    const error = await errorOf(async () => drawDemos(grouped, query, 3, 7, 0, 0, 'objective.few_shot.support'));
    expect(error.message).toBe(
      'example "q" (data/train.jsonl:3) needs 3 in-context caption examples, but objective.few_shot.support has 2 other than it (not the same id, not the same image)',
    );
  });

  test('every candidate is drawn about equally often (a uniform draw), and k is uniform on train_shots', async () => {
    const grouped = await readPool(
      datasetOf([...Array.from({ length: 5 }, (_, i) => caption(`p${i}`, ['x'], png(['green', 'blue'][i % 2]!))), query]),
    );
    // Five candidates (q excluded; green and blue are not the query's red): each is the first demo about 1/5 of the time.
    const first = new Map<string, number>();
    for (let position = 0; position < 1000; position += 1) {
      const id = drawDemos(grouped, query, 1, 3, 2, position, 'data.train')[0]!.id;
      first.set(id, (first.get(id) ?? 0) + 1);
    }
    expect([...first.keys()].sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    for (const n of first.values()) expect(Math.abs(n - 200)).toBeLessThan(60);
    const ks = Array.from({ length: 500 }, (_, position) => drawShots([0, 4], 0, 1, position));
    expect(new Set(ks)).toEqual(new Set([0, 1, 2, 3, 4]));
    for (let k = 0; k <= 4; k += 1) expect(Math.abs(ks.filter((x) => x === k).length - 100)).toBeLessThan(40);
    expect(drawShots([2, 2], 0, 1, 9)).toBe(2);
  });
});

describe('few-shot episodes', () => {
  const query = caption('q', ['a red circle'], red);
  const support = [caption('s1', ['a green square'], green), caption('s2', ['a blue circle'], blue), query];
  const demosOf = async (k: number, epoch = 0, position = 0, seed = 0) =>
    drawDemos(await readPool(datasetOf(support)), query, k, seed, epoch, position, 'data.train');
  const words = (e: Example) => (e.task === 'caption' ? e.captions[0]! : '');

  test("training ('placeholder'): each demo complete with its image, then the query; every target trained; images demos first", async () => {
    const objective = await create({ template: 'plain', few_shot: { train_shots: [2, 2] } }, bridge('placeholder'), undefined, support);
    const batch = await objective.collate([query], { epoch: 3, positions: [6] });
    const demos = await demosOf(2, 3, 6);
    const parts = [...demos.map((d) => captionRow(words(d))), captionRow('a red circle')];
    expect(rows(batch.inputs.inputIds!)[0]).toEqual(parts.flatMap((p) => p.ids));
    expect(rows(batch.inputs.labels!)[0]).toEqual(parts.flatMap((p) => p.labels));
    const pixels = batch.inputs.pixelValues!;
    expect(pixels.shape).toEqual([3, 3, SIDE, SIDE]);
    const images = [...demos.map((d) => d.image!), red];
    for (const [j, image] of images.entries())
      expect(pixelRow(pixels, j)).toEqual(await pixelsOf(image, j === 0 ? deriveSeed(11, 3, 6) : deriveSeed(11, 3, 6, j)));
    batch.dispose();
  });

  test("'prefix' (BLIP-2-like): demos are text only, the one image is the query's", async () => {
    const objective = await create({ template: 'plain', few_shot: { train_shots: [2, 2] } }, bridge('prefix'), undefined, support);
    const batch = await objective.collate([query], { epoch: 3, positions: [6] });
    const demos = await demosOf(2, 3, 6);
    const texts = [...demos.map(words), 'a red circle'].flatMap((w) => [...bare(`a photo of ${w}`), eos]);
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...span, ...texts]);
    expect(batch.inputs.pixelValues!.shape).toEqual([1, 3, SIDE, SIDE]);
    expect(pixelRow(batch.inputs.pixelValues!, 0)).toEqual(await pixelsOf(red, deriveSeed(11, 3, 6)));
    batch.dispose();
  });

  test('training shots come from train_shots: [0, 0] (the default) leaves rows as they were', async () => {
    const plain = await create({ template: 'plain' }, bridge('placeholder'), undefined, support);
    const zero = await create({ template: 'plain', few_shot: { shots: 2 } }, bridge('placeholder'), undefined, support);
    const [a, b] = [await plain.collate([query], { epoch: 0, positions: [0] }), await zero.collate([query], { epoch: 0, positions: [0] })];
    expect(rows(b.inputs.inputIds!)).toEqual(rows(a.inputs.inputIds!));
    expect(rows(a.inputs.inputIds!)[0]).toEqual(captionRow('a red circle').ids);
    a.dispose();
    b.dispose();
  });

  test('evaluation: shots demos before each eval example; only the query target counts for the loss; generation prompts keep the demos', async () => {
    const model = bridge('placeholder');
    const objective = await create(
      { template: 'plain', few_shot: { shots: 2 }, generation: { max_new_tokens: 1 } },
      model,
      [query],
      support,
    );
    const parts = [];
    for await (const part of objective.evaluate(undefined, { batchSize: 1, kinds: ['text'] })) parts.push(part);
    const demos = await demosOf(2, 0, 0);
    const query_ = captionRow('a red circle');
    const prompt = bare('\na photo of').length;
    // The count is the query's target tokens (its caption and eos), not the demos'.
    expect(parts[0]!.count).toBe(query_.ids.length - COUNT - prompt);
    const ids = [...demos.flatMap((d) => captionRow(words(d)).ids), ...query_.ids];
    const call = model.calls.at(-1)!;
    expect(call.ids[0]).toEqual(ids);
    // The loss by hand from the logits of the same inputs: -log softmax over the query's target tokens only.
    const logits = tf.tidy(() => {
      const out = model.forward({ inputIds: tf.tensor2d([ids], undefined, 'int32'), pixelValues: tf.tensor4d(call.pixels) });
      return out.logits!.arraySync() as number[][][];
    });
    const start = ids.length - (query_.ids.length - COUNT - prompt);
    let sum = 0;
    for (let t = start; t < ids.length; t += 1) {
      const z = logits[0]![t - 1]!;
      const max = Math.max(...z);
      sum -= z[ids[t]!]! - max - Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    }
    expect(parts[0]!.lossSum).toBeCloseTo(sum, 3);
    const generated = model.generated.at(-1)!;
    expect(generated.ids[0]).toEqual(ids.slice(0, start));
    expect(generated.pixels).toHaveLength(3);
  });

  test('named templates: one conversation (system once), demos then the query; in evaluation only the last answer is a label', async () => {
    const objective = await create({ template: 'chatml', few_shot: { shots: 2, train_shots: [2, 2] } }, bridge('prefix'), [query], support);
    const demos = await demosOf(2, 0, 0);
    const turn = (w: string) => `<|im_start|>user\na photo of<|im_end|>\n<|im_start|>assistant\n${w}<|im_end|>`;
    const conversation = `<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n${[...demos.map(words), 'a red circle'].map(turn).join('\n')}`;
    const train = await objective.collate([query], { epoch: 0, positions: [0] });
    expect(rows(train.inputs.inputIds!)[0]).toEqual([...span, ...bare(conversation)]);
    const labelled = (t: tf.Tensor) =>
      tok.decode(
        rows(t)[0]!.filter((l) => l !== IGNORE_INDEX),
        { skipSpecialTokens: false },
      );
    expect(labelled(train.inputs.labels!)).toContain(words(demos[0]!));
    train.dispose();
    const model = bridge('prefix');
    const evaluating = await create({ template: 'chatml', few_shot: { shots: 2 } }, model, [query], support);
    for await (const part of evaluating.evaluate(undefined, { batchSize: 1, kinds: [] })) expect(part.count).toBeGreaterThan(0);
    const ids = model.calls.at(-1)!.ids[0]!;
    expect(ids).toEqual([...span, ...bare(conversation)]);
    const countOf = async (objective: Awaited<ReturnType<typeof create>>) => {
      let count = 0;
      for await (const part of objective.evaluate(undefined, { batchSize: 1, kinds: [] })) count += part.count;
      return count;
    };
    // The query's answer alone is counted: the same count as without demos (the system prompt is the same).
    expect(await countOf(evaluating)).toBe(await countOf(await create({ template: 'chatml' }, bridge('prefix'), [query])));
  });

  test('VQA gets VQA demos; llava_plain concatenates LLaVA stage-1 rows', async () => {
    const q = vqa('vq', 'What is red?', 'the circle', red);
    const train = [caption('s1', ['a green square'], green), vqa('v1', 'What is blue?', 'the square', blue), q];
    const objective = await create({ template: 'plain', few_shot: { train_shots: [1, 1] } }, bridge('prefix'), undefined, train);
    const batch = await objective.collate([q], { epoch: 0, positions: [0] });
    const turn = (question: string, answer: string) => [
      ...bare(`${renderTemplate(resolvePrompt('vqa', undefined), { question })} ${answer}`),
      eos,
    ];
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([
      ...span,
      ...turn('What is blue?', 'the square'),
      ...turn('What is red?', 'the circle'),
    ]);
    batch.dispose();
    const stage1 = await create({ template: 'llava_plain', few_shot: { train_shots: [1, 1] } }, bridge('placeholder'), undefined, support);
    const rowOf = await stage1.collate([query], { epoch: 0, positions: [0] });
    const [demo] = await demosOf(1);
    // LLaVA's plain format per example: the image span, then the caption and "\n".
    expect(rows(rowOf.inputs.inputIds!)[0]).toEqual([...span, ...bare(`${words(demo!)}\n`), ...span, ...bare('a red circle\n')]);
    rowOf.dispose();
  });

  test('max_length: demos are dropped from the front until the episode fits; the query stays', async () => {
    const demos = await demosOf(2, 0, 0);
    const last = captionRow(words(demos[1]!)).ids.length + captionRow('a red circle').ids.length;
    const objective = await create(
      { template: 'plain', max_length: last, few_shot: { train_shots: [2, 2] } },
      bridge('placeholder'),
      undefined,
      support,
    );
    const batch = await objective.collate([query], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...captionRow(words(demos[1]!)).ids, ...captionRow('a red circle').ids]);
    expect(batch.inputs.pixelValues!.shape).toEqual([2, 3, SIDE, SIDE]);
    batch.dispose();
  });

  test('no tensor leaks across collate, loss and evaluation of episodes', async () => {
    const objective = await create(
      { template: 'plain', few_shot: { shots: 1, train_shots: [1, 2] }, generation: { max_new_tokens: 1 } },
      bridge('placeholder'),
      [query],
      support,
    );
    const run = async () => {
      const batch = await objective.collate([query, two('m1', '<image> and <image>')], { epoch: 0, positions: [0, 1] });
      tf.dispose(tf.tidy(() => objective.loss(batch)));
      batch.dispose();
      for await (const part of objective.evaluate(undefined, { batchSize: 1, kinds: ['text'] })) expect(part.inputs).toHaveLength(1);
    };
    await run();
    const before = tf.memory().numTensors;
    await run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('objective.few_shot.support', () => {
  test('is opened through the registry with its relative paths from few_shot.base_dir; a misspelt key is named', async () => {
    const opened: string[] = [];
    const fake: DatasetProvider<{ path: string }> = {
      kind: 'dataset',
      id: 'fake',
      description: 'test',
      tasks: ['caption'],
      configSchema: z.strictObject({ path: recipePath(z.string()) }),
      open: async (config) => {
        opened.push(config.path);
        return datasetOf([caption('s1', ['a green square'], green)]);
      },
    };
    const resolver = { resolve: () => fake, list: () => [fake] } as unknown as ProviderResolver;
    const config = causalLmConfigSchema.parse({
      few_shot: { shots: 1, support: { type: 'fake', path: 'demos.jsonl' }, base_dir: '/recipes' },
    });
    const objective = await causalLmProvider.create(config, {
      ...contextOf(bridge('placeholder'), [caption('q', ['a red circle'])]),
      resolver,
    });
    expect(opened).toEqual(['/recipes/demos.jsonl']);
    objective.dispose();
    const bad = causalLmConfigSchema.parse({ few_shot: { shots: 1, support: { type: 'fake', pth: 'demos.jsonl' } } });
    const error = await errorOf(() => causalLmProvider.create(bad, { ...contextOf(bridge('placeholder')), resolver }));
    expect(error.message).toContain('objective.few_shot.support.pth: unknown key; did you mean "path"?');
  });

  test('base_dir defaults to the folder of the recipe (resolved as the recipe reader resolves path fields)', () => {
    const parsed = causalLmConfigSchema.parse({ few_shot: { shots: 2 } });
    const resolved = resolvePathFields(causalLmConfigSchema, parsed, ['objective'], new Map(), '/work/recipes') as typeof parsed;
    expect(resolved.few_shot!.base_dir).toBe('/work/recipes');
  });

  test('training demos come from the training data, evaluation demos from support', async () => {
    const fake: DatasetProvider<Record<string, never>> = {
      kind: 'dataset',
      id: 'fake',
      description: 'test',
      tasks: ['caption'],
      configSchema: z.strictObject({}),
      open: async () => datasetOf([caption('b1', ['a blue square'], blue)]),
    };
    const resolver = { resolve: () => fake, list: () => [fake] } as unknown as ProviderResolver;
    const query = caption('q', ['a red circle'], red);
    const train = [caption('a1', ['a green square'], green), query];
    const config = causalLmConfigSchema.parse({
      template: 'plain',
      few_shot: { shots: 1, train_shots: [1, 1], support: { type: 'fake' } },
    });
    const model = bridge('prefix');
    const objective = await causalLmProvider.create(config, { ...contextOf(model, [query], train), resolver });
    const batch = await objective.collate([query], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([
      ...span,
      ...bare('a photo of a green square'),
      eos,
      ...bare('a photo of a red circle'),
      eos,
    ]);
    batch.dispose();
    for await (const part of objective.evaluate(undefined, { batchSize: 1, kinds: [] })) expect(part.count).toBeGreaterThan(0);
    expect(model.calls.at(-1)!.ids[0]).toEqual([
      ...span,
      ...bare('a photo of a blue square'),
      eos,
      ...bare('a photo of a red circle'),
      eos,
    ]);
  });

  test('without support, data.train or a data.train section: E_CONFIG when the first episode is drawn', async () => {
    const objective = await create({ few_shot: { shots: 1 } }, bridge('placeholder'), [caption('q', ['a red circle'])]);
    const error = await errorOf(async () => {
      for await (const part of objective.evaluate(undefined, { batchSize: 1, kinds: [] })) expect(part).toBeUndefined();
    });
    expect(error.message).toBe('objective.few_shot asks for in-context examples, but there is no data to draw them from');
  });
});
