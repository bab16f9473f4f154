// The causal-LM objective on a vision→LLM bridge: the toy bridge of toy-bridge.test-helper.ts in
// the three layouts a processor can declare (image span in front, at the `<image>` mark, or placed
// by the model itself).
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { Example } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import { deriveSeed, preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import { renderTemplate, resolvePrompt } from '@mmft/text';
import { IGNORE_INDEX } from './encode';
import {
  bare,
  bridge,
  caption,
  COUNT,
  create,
  eos,
  source,
  errorOf,
  ignored,
  IMAGE_ID,
  MEAN,
  png,
  rows,
  SIDE,
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

test('the image id never occurs in the texts of these tests', () => {
  expect([
    eos,
    tok.specialTokenIds!.pad,
    ...bare('a photo of a red circle What is red? green square the circle Look. USER: ASSISTANT:\n'),
  ]).not.toContain(IMAGE_ID);
});

describe("'prefix' placement (Blip2Processor: num_query_tokens image tokens before the text)", () => {
  test('ids are [image × count, prompt, caption, eos]; labels are -100 on the span and the prompt', async () => {
    const objective = await create({ template: 'plain' }, bridge('prefix'));
    const batch = await objective.collate([caption('c1', ['a red circle'])], { epoch: 0, positions: [0] });
    const prompt = bare('a photo of');
    const textIds = [...bare('a photo of a red circle'), eos];
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...span, ...textIds]);
    expect(rows(batch.inputs.labels!)[0]).toEqual([...ignored(COUNT + prompt.length), ...textIds.slice(prompt.length)]);
    expect(batch.count).toBe(textIds.length - prompt.length);
    expect(batch.inputs.pixelValues!.shape).toEqual([1, 3, SIDE, SIDE]);
    batch.dispose();
  });

  test('train_on_prompt labels the prompt but never the image span', async () => {
    const objective = await create({ template: 'plain', train_on_prompt: true }, bridge('prefix'));
    const batch = await objective.collate([vqa('q1', 'What is red?', 'the circle')], { epoch: 0, positions: [0] });
    const ids = rows(batch.inputs.inputIds!)[0]!;
    const labels = rows(batch.inputs.labels!)[0]!;
    expect(ids.slice(0, COUNT)).toEqual(span);
    expect(labels).toEqual([...ignored(COUNT), ...ids.slice(COUNT)]);
    // labelCount skips position 0 only; every text token is labelled.
    expect(batch.count).toBe(ids.length - COUNT);
    batch.dispose();
  });

  test('truncation never cuts the span: a span past max_length, or no target after it, is an error naming the example', async () => {
    const prompt = bare('a photo of');
    const cut = await create({ template: 'plain', max_length: COUNT - 1 }, bridge('prefix'));
    const e1 = await errorOf(() => cut.collate([caption('c9', ['a red circle'])], { epoch: 0, positions: [0] }));
    expect(e1.message).toContain('example "c9" (data/train.jsonl:3)');
    expect(e1.message).toContain(`image span (positions 0..${COUNT - 1}) does not fit objective.max_length ${COUNT - 1}`);
    const full = await create({ template: 'plain', max_length: COUNT + prompt.length }, bridge('prefix'));
    const e2 = await errorOf(() => full.collate([caption('c8', ['a red circle'])], { epoch: 0, positions: [0] }));
    expect(e2.message).toContain('example "c8"');
    expect(e2.message).toContain('nothing is left to train on after its image span');
    const fits = await create({ template: 'plain', max_length: COUNT + prompt.length + 2 }, bridge('prefix'));
    const batch = await fits.collate([caption('c7', ['a red circle'])], { epoch: 0, positions: [0] });
    const textIds = bare('a photo of a red circle');
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...span, ...textIds.slice(0, prompt.length + 2)]);
    expect(rows(batch.inputs.labels!)[0]).toEqual([...ignored(COUNT + prompt.length), ...textIds.slice(prompt.length, prompt.length + 2)]);
    expect(batch.count).toBe(2);
    batch.dispose();
  });

  test('an image-less example is an error naming it (BLIP-2 reads an image in every row)', async () => {
    const objective = await create({ template: 'plain' }, bridge('prefix'));
    const error = await errorOf(() => objective.collate([text('t1', 'a red circle')], { epoch: 0, positions: [0] }));
    expect(error.message).toContain('example "t1" (data/train.jsonl:3) (task text) has no image');
  });

  test('loss is the summed token loss of the spliced sequence; nothing leaks', async () => {
    const model = bridge('prefix');
    const objective = await create({ template: 'plain' }, model);
    const before = tf.memory().numTensors;
    const batch = await objective.collate([caption('c1', ['a red circle']), vqa('q1', 'What is red?', 'the circle')], {
      epoch: 0,
      positions: [0, 1],
    });
    const loss = objective.loss(batch);
    // The same sum by hand: -log softmax(logits[t])[label[t+1]] over labelled t+1.
    const { logits, loss: mean } = model.forward({ ...batch.inputs });
    const l = logits!.arraySync() as number[][][];
    const labels = rows(batch.inputs.labels!);
    let sum = 0;
    labels.forEach((row, b) =>
      row.forEach((label, t) => {
        if (t === 0 || label === IGNORE_INDEX) return;
        const z = l[b]![t - 1]!;
        const max = Math.max(...z);
        sum -= z[label]! - max - Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
      }),
    );
    expect(loss.dataSync()[0]).toBeCloseTo(sum, 3);
    tf.dispose([loss, logits!, mean!]);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('pixelValues', () => {
  test('each row is its own image through @mmft/image with the model preprocessing, the same for the same (seed, epoch, position)', async () => {
    const objective = await create({ template: 'plain' }, bridge('prefix'));
    const examples = [caption('c1', ['a red circle'], png('red')), caption('c2', ['a green square'], png('green'))];
    const a = await objective.collate(examples, { epoch: 2, positions: [4, 9] });
    const b = await objective.collate(examples, { epoch: 2, positions: [4, 9] });
    const pixels = a.inputs.pixelValues!.arraySync() as number[][][][];
    expect(pixels).toEqual(b.inputs.pixelValues!.arraySync());
    // red.png is (220, 30, 30) and green.png (30, 200, 60) everywhere: (v / 255 - mean) / std per channel.
    const colours = [
      [220, 30, 30],
      [30, 200, 60],
    ];
    colours.forEach((rgb, row) =>
      rgb.forEach((v, c) => {
        for (const line of pixels[row]![c]!) for (const x of line) expect(x).toBeCloseTo((v / 255 - MEAN[c]!) / STD[c]!, 2);
      }),
    );
    const options = preprocessOptionsSchema.parse({ size: SIDE, cropSize: SIDE, mean: [...MEAN], std: [...STD] });
    const green = await preprocessResolved(png('green'), options, deriveSeed(11, 2, 9));
    expect(Array.from(tf.slice(a.inputs.pixelValues!, [1, 0, 0, 0], [1, 3, SIDE, SIDE]).dataSync())).toEqual(Array.from(green.data));
    a.dispose();
    b.dispose();
  });
});

describe("'placeholder' placement (LlavaProcessor: the span at the <image> mark)", () => {
  const dialogue = (id: string, withImage: boolean): Example => ({
    id,
    task: 'instruction',
    turns: [
      { role: 'user', content: 'Look. <image>\nWhat is red?' },
      { role: 'assistant', content: 'the circle' },
    ],
    ...(withImage ? { image: png('red') } : {}),
    source,
  });

  test('the span replaces the mark; text on each side is tokenized on its own; labels -100 on the span', async () => {
    const objective = await create({ template: 'plain' }, bridge('placeholder'));
    const batch = await objective.collate([dialogue('d1', true)], { epoch: 0, positions: [0] });
    const ids = rows(batch.inputs.inputIds!)[0]!;
    const labels = rows(batch.inputs.labels!)[0]!;
    expect(resolvePrompt('instruction', undefined)).toBe('USER: <image>\n{instruction} ASSISTANT:');
    // The template's own mark would repeat on every user turn: the user's mark is the one kept.
    const [before, after] = ['USER: Look. ', '\nWhat is red? ASSISTANT:'];
    const start = bare(before).length;
    expect(ids.slice(0, start)).toEqual(bare(before));
    expect(ids.slice(start, start + COUNT)).toEqual(span);
    expect(ids.indexOf(IMAGE_ID, start + COUNT)).toBe(-1);
    expect(ids.slice(start + COUNT)).toEqual([...bare(`${after} the circle`), eos]);
    const promptLength = start + COUNT + bare(after).length;
    expect(labels).toEqual([...ignored(promptLength), ...ids.slice(promptLength)]);
    batch.dispose();
  });

  test('a caption without a mark gets "<image>\\n" in front of its prompt (LLaVA preprocess_multimodal)', async () => {
    const objective = await create({ template: 'plain' }, bridge('placeholder'));
    const batch = await objective.collate([caption('c1', ['a red circle'])], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...span, ...bare('\na photo of a red circle'), eos]);
    batch.dispose();
  });

  test('text-only examples train as text and bring no image (LLaVA); a mark without an image is an error', async () => {
    const model = bridge('placeholder');
    const objective = await create({ template: 'plain' }, model);
    const batch = await objective.collate([text('t1', 'a red circle'), caption('c1', ['a red circle'])], { epoch: 0, positions: [0, 1] });
    const ids = rows(batch.inputs.inputIds!);
    expect(ids[0]!.slice(0, bare('a red circle').length + 1)).toEqual([...bare('a red circle'), eos]);
    expect(ids[0]).not.toContain(IMAGE_ID);
    // One image for the one span in the batch (the caption's), as LLaVA requires image tokens = images × count.
    expect(batch.inputs.pixelValues!.shape).toEqual([1, 3, SIDE, SIDE]);
    const loss = objective.loss(batch);
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    loss.dispose();
    batch.dispose();
    const textOnly = await objective.collate([text('t2', 'a red circle')], { epoch: 0, positions: [0] });
    expect(textOnly.inputs.pixelValues).toBeUndefined();
    textOnly.dispose();
    const error = await errorOf(() => objective.collate([dialogue('d2', false)], { epoch: 0, positions: [0] }));
    expect(error.message).toContain('example "d2" (data/train.jsonl:3) has an <image> mark but no image');
  });
});

describe('the model places the image itself (legacy BLIP-2: processor.imageTokens absent)', () => {
  test('ids are the text alone, pixelValues ride along, the loss trains', async () => {
    const model = bridge('model');
    const objective = await create({ template: 'plain' }, model);
    const batch = await objective.collate([caption('c1', ['a red circle'])], { epoch: 0, positions: [0] });
    expect(rows(batch.inputs.inputIds!)[0]).toEqual([...bare('a photo of a red circle'), eos]);
    expect(batch.inputs.pixelValues!.shape).toEqual([1, 3, SIDE, SIDE]);
    const loss = objective.loss(batch);
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    loss.dispose();
    batch.dispose();
  });
});

describe('evaluation', () => {
  test('generate gets each wanted row its pixels and its left-padded prompt (span included); metric inputs follow', async () => {
    const model = bridge('prefix');
    const data = [caption('c1', ['a red circle'], png('red')), vqa('q1', 'What is green?', 'the square', png('green'))];
    const objective = await create({ template: 'plain', generation: { max_new_tokens: 2 } }, model, data);
    const parts = [];
    for await (const part of objective.evaluate!(undefined, { batchSize: 2, kinds: ['text', 'vqa'] })) parts.push(part);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.inputs.map((i) => [i.kind, 'id' in i ? i.id : undefined])).toEqual([
      ['text', 'c1'],
      ['vqa', 'q1'],
    ]);
    const [call] = model.generated;
    const trained = model.calls.at(-1)!;
    expect(call!.pixels).toEqual(trained.pixels);
    const captionPrompt = [...span, ...bare('a photo of')];
    const vqaPrompt = [...span, ...bare(renderTemplate(resolvePrompt('vqa', undefined), { question: 'What is green?' }))];
    const width = Math.max(captionPrompt.length, vqaPrompt.length);
    const leftPad = (row: number[]) => [...new Array<number>(width - row.length).fill(tok.specialTokenIds!.pad ?? eos), ...row];
    expect(call!.ids).toEqual([leftPad(captionPrompt), leftPad(vqaPrompt)]);
    expect(call!.mask[0]!.filter((m) => m === 1)).toHaveLength(captionPrompt.length);
  });
});
