// `mmft generate --image` on a tiny BLIP-2 over a tiny OPT (@mmft/arch-blip2/testing), in both input
// layouts: the pixels are (v / 255 − mean) / std of the PNG's own bytes; the printed tokens are a
// reference argmax loop over the model's full forward (no cache, the ids written by hand: image
// span, bos, prompt) for every row of a left-padded batch, so the span, the padding and the pairing
// of images with prompts are all checked; a TTY streams the same text; the errors name the flag.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { architectureContext, type TextTokenizer } from '@mmft/core';
import { optProvider } from '@mmft/arch-opt';
import { Blip2ForConditionalGeneration, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from '@mmft/arch-blip2';
import { createCliContext } from '../context';
import { generateCommand } from './generate';
import { imagePixels, imagePromptIds, imageRows, withImageMark } from './generate-image';
import { createTinyOptBlip2, writeTestPng } from './fixtures.test-helper';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-opt', '@mmft/arch-blip2', '@mmft/arch-llama'];
const context = architectureContext({ list: () => [optProvider] });
let tmp: string;
let tokenizer: TextTokenizer;
let imageToken: number;
const models: Record<'current' | 'legacy', Blip2ForConditionalGeneration> = {} as never;

/** Seeded bytes (a linear congruential generator: the test needs variety, not quality). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s % 256;
  }
  return out;
}

const images: Record<string, Uint8Array> = {};

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-generate-image-'));
  for (const layout of ['current', 'legacy'] as const) {
    const dir = path.join(tmp, layout);
    // The image token is one id past the tokenizer's vocabulary, as Blip2Processor adds "<image>".
    ({ tokenizer, imageToken } = await createTinyOptBlip2(dir, path.join(tmp, 'tokenizer'), { seed: 5, layout }));
    models[layout] = await Blip2ForConditionalGeneration.fromPretrained(dir, {}, context);
  }
  images['a.png'] = bytes(8 * 8 * 3, 1);
  // A dark left half and a bright right half: far from a.png's noise, so the two images lead to different tokens.
  images['b.png'] = new Uint8Array(8 * 8 * 3).map((_, i) => ((i / 3) % 8 < 4 ? 10 : 250));
  for (const [name, rgb] of Object.entries(images)) writeTestPng(path.join(tmp, name), 8, 8, rgb);
});
afterAll(() => {
  for (const model of Object.values(models)) model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function run(argv: string[], isTTY = false): Promise<{ stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const ctx = createCliContext({ isTTY, stdout, stderr: new PassThrough(), cwd: tmp, builtins: BUILTINS });
  try {
    await new Command('mmft')
      .exitOverride()
      .addCommand(generateCommand(ctx))
      .parseAsync(['generate', ...argv], { from: 'user' });
    return { stdout: Buffer.concat(out).toString(), stderr: '' };
  } catch (error) {
    return { stdout: Buffer.concat(out).toString(), stderr: (error as Error).message };
  }
}

/** Pixels [1, 3, 8, 8] of an 8×8 image by the formula (no resize: the model's side is 8). */
function pixelsOf(rgb: Uint8Array): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (let p = 0; p < 64; p++) out.push((rgb[3 * p + c]! / 255 - OPENAI_CLIP_MEAN[c]!) / OPENAI_CLIP_STD[c]!);
  return out;
}

/** `steps` argmax steps over the full forward of one unpadded row (eos masked: the runs ask for min-new-tokens = max). */
function referenceGreedy(model: Blip2ForConditionalGeneration, rgb: Uint8Array, ids: number[], steps: number): number[] {
  const eos = [model.languageModel.generationConfig.eos_token_id].flat() as number[];
  const row = [...ids];
  const generated: number[] = [];
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => {
      const pixelValues = tf.tensor4d(pixelsOf(rgb), [1, 3, 8, 8]);
      const inputIds = tf.tensor2d([row], [1, row.length], 'int32');
      const logits = model.forward({ pixelValues, inputIds, attentionMask: tf.onesLike(inputIds) }).logits;
      const last = Array.from(tf.slice(logits, [0, logits.shape[1]! - 1, 0], [1, 1, -1]).dataSync());
      for (const e of eos) last[e] = -Infinity;
      return last.indexOf(Math.max(...last));
    });
    row.push(next);
    generated.push(next);
  }
  return generated;
}

const bosRow = (text: string) => tokenizer.encode([text], { truncation: false, addSpecialTokens: true }).inputIds[0]!;
const span = () => new Array<number>(4).fill(imageToken);

describe('mmft generate --image', () => {
  test('pixels are (v / 255 − mean) / std of the file, channel-first; a uniform image of another size resizes to its colour', async () => {
    const x = await imagePixels(models.current, [path.join(tmp, 'a.png'), path.join(tmp, 'b.png')]);
    expect(x.shape).toEqual([2, 3, 8, 8]);
    const got = Array.from(x.dataSync());
    const want = [...pixelsOf(images['a.png']!), ...pixelsOf(images['b.png']!)];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    x.dispose();
    const uniform = new Uint8Array(12 * 10 * 3).map((_, i) => [200, 40, 90][i % 3]!);
    writeTestPng(path.join(tmp, 'uniform.png'), 12, 10, uniform);
    const u = await imagePixels(models.current, [path.join(tmp, 'uniform.png')]);
    const values = Array.from(u.dataSync());
    expect(u.shape).toEqual([1, 3, 8, 8]);
    [200, 40, 90].forEach((v, c) => {
      for (const got of values.slice(c * 64, (c + 1) * 64))
        expect(got).toBeCloseTo((v / 255 - OPENAI_CLIP_MEAN[c]!) / OPENAI_CLIP_STD[c]!, 5);
    });
    u.dispose();
  });

  test.each(['current', 'legacy'] as const)(
    '%s layout: a left-padded batch of two images and two prompts gives each row its own reference tokens',
    async (layout) => {
      const prompts = ['a photo of', 'Question: what shape is on the left of the red circle? Answer:'];
      const r = await run([
        layout,
        ...['--image', 'a.png', '--prompt', prompts[0]!, '--image', 'b.png', '--prompt', prompts[1]!],
        ...['--max-new-tokens', '4', '--min-new-tokens', '4', '--json'],
      ]);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { images: string[]; prompts: string[]; sequences: number[][]; texts: string[] };
      expect(out.images).toEqual(['a.png', 'b.png']);
      expect(out.prompts).toEqual(prompts);
      const head = layout === 'current' ? span() : [];
      const expected = [
        referenceGreedy(models[layout], images['a.png']!, [...head, ...bosRow(prompts[0]!)], 4),
        referenceGreedy(models[layout], images['b.png']!, [...head, ...bosRow(prompts[1]!)], 4),
      ];
      expect(out.sequences).toEqual(expected);
      expect(out.texts).toEqual(expected.map((row) => tokenizer.decode(row, { skipSpecialTokens: true })));
      // The fixture tells the images apart, so a swapped pairing would fail above.
      const swapped = referenceGreedy(models[layout], images['b.png']!, [...head, ...bosRow(prompts[0]!)], 4);
      expect(swapped).not.toEqual(expected[0]);
    },
  );

  test('no --prompt captions from bos (after the image span); one image serves several prompts', async () => {
    const caption = JSON.parse(
      (await run(['current', '--image', 'a.png', '--image', 'b.png', '--max-new-tokens', '3', '--min-new-tokens', '3', '--json'])).stdout,
    ) as { sequences: number[][]; prompts: unknown[] };
    const bos = tokenizer.specialTokenIds!.bos!;
    expect(caption.prompts).toEqual([null, null]);
    expect(caption.sequences).toEqual([
      referenceGreedy(models.current, images['a.png']!, [...span(), bos], 3),
      referenceGreedy(models.current, images['b.png']!, [...span(), bos], 3),
    ]);
    const legacy = JSON.parse(
      (await run(['legacy', '--image', 'b.png', '--max-new-tokens', '3', '--min-new-tokens', '3', '--json'])).stdout,
    ) as {
      sequences: number[][];
    };
    expect(legacy.sequences).toEqual([referenceGreedy(models.legacy, images['b.png']!, [bos], 3)]);
    const shared = JSON.parse(
      (
        await run([
          'current',
          '--image',
          'b.png',
          '--prompt',
          'a',
          '--prompt',
          'two red',
          '--max-new-tokens',
          '3',
          '--min-new-tokens',
          '3',
          '--json',
        ])
      ).stdout,
    ) as { images: string[]; sequences: number[][] };
    expect(shared.images).toEqual(['b.png', 'b.png']);
    expect(shared.sequences).toEqual([
      referenceGreedy(models.current, images['b.png']!, [...span(), ...bosRow('a')], 3),
      referenceGreedy(models.current, images['b.png']!, [...span(), ...bosRow('two red')], 3),
    ]);
  });

  test('without --max-new-tokens an image row gets the 20 new tokens generate() gives a text prompt (legacy: embeddings only)', async () => {
    const out = JSON.parse((await run(['legacy', '--image', 'b.png', '--min-new-tokens', '20', '--json'])).stdout) as {
      sequences: number[][];
    };
    expect(out.sequences).toEqual([referenceGreedy(models.legacy, images['b.png']!, [tokenizer.specialTokenIds!.bos!], 20)]);
  });

  test('plain output labels each row; a terminal streams the same text for one row', async () => {
    const args = ['current', '--image', 'a.png', '--prompt', 'a photo of', '--max-new-tokens', '4', '--min-new-tokens', '4'];
    const json = JSON.parse((await run([...args, '--json'])).stdout) as { texts: string[] };
    expect((await run(args)).stdout).toBe(`${json.texts[0]}\n`);
    expect((await run(args, true)).stdout).toBe(`${json.texts[0]}\n`);
    const batch = await run(['current', '--image', 'a.png', '--image', 'b.png', '--prompt', 'a photo of', '--max-new-tokens', '2']);
    const both = JSON.parse(
      (await run(['current', '--image', 'a.png', '--image', 'b.png', '--prompt', 'a photo of', '--max-new-tokens', '2', '--json'])).stdout,
    ) as {
      texts: string[];
    };
    expect(batch.stdout).toBe(`[1]\n${both.texts[0]}\n[2]\n${both.texts[1]}\n`);
  });

  test('a vision model without --image, a missing image, unpaired counts and an <image> mark on a prefix model are clear errors', async () => {
    expect((await run(['current', '--prompt', 'x'])).stderr).toMatch(
      /vision-to-LLM model \(blip-2\): it reads an image with every prompt, and no --image/,
    );
    expect((await run(['current', '--image', 'nope.png'])).stderr).toMatch(/--image nope\.png: no such file/);
    fs.writeFileSync(path.join(tmp, 'broken.png'), 'not an image');
    expect((await run(['current', '--image', 'broken.png'])).stderr).toMatch(/--image broken\.png: cannot decode image/);
    const unpaired = await run(['current', '--image', 'a.png', '--image', 'b.png', '--image', 'a.png', '--prompt', 'x', '--prompt', 'y']);
    expect(unpaired.stderr).toMatch(/3 --image and 2 --prompt do not pair up/);
    expect((await run(['current', '--image', 'a.png', '--prompt', '<image> what?'])).stderr).toMatch(
      /contains "<image>", and this model places the image itself/,
    );
  });
});

describe('image rows and spans', () => {
  test('pairing: pairwise, one prompt for all, one image for all, none = captions; else an error', () => {
    expect(imageRows(['a', 'b'], ['p', 'q'])).toEqual([
      { image: 0, prompt: 'p' },
      { image: 1, prompt: 'q' },
    ]);
    expect(imageRows(['a', 'b'], ['p'])).toEqual([
      { image: 0, prompt: 'p' },
      { image: 1, prompt: 'p' },
    ]);
    expect(imageRows(['a'], ['p', 'q'])).toEqual([
      { image: 0, prompt: 'p' },
      { image: 0, prompt: 'q' },
    ]);
    expect(imageRows(['a', 'b'], [])).toEqual([{ image: 0 }, { image: 1 }]);
    expect(() => imageRows(['a', 'b'], ['p', 'q', 'r'])).toThrow(/2 --image and 3 --prompt do not pair up/);
  });

  test("a 'placeholder' span replaces the <image> mark, each side tokenized on its own; without a mark it goes in front", () => {
    const llava = { tokenId: 9999, count: 3, placement: 'placeholder' as const };
    const text = 'USER: <image>\nwhat color? ASSISTANT:';
    const bare = (t: string) => tokenizer.encode([t], { truncation: false, addSpecialTokens: false }).inputIds[0]!;
    expect(imagePromptIds(tokenizer, text, llava, true, 'p')).toEqual([
      ...bosRow('USER: '),
      9999,
      9999,
      9999,
      ...bare('\nwhat color? ASSISTANT:'),
    ]);
    expect(withImageMark('what color?', llava)).toBe('<image>\nwhat color?');
    expect(withImageMark('what color?', { ...llava, placement: 'prefix' })).toBe('what color?');
    expect(imagePromptIds(tokenizer, withImageMark('hi', llava), llava, true, 'p')).toEqual([
      ...bosRow(''),
      9999,
      9999,
      9999,
      ...bare('\nhi'),
    ]);
    expect(() => imagePromptIds(tokenizer, '<image><image>x', llava, true, '--prompt "x"')).toThrow(/--prompt "x" has 2 "<image>" marks/);
    expect(imagePromptIds(tokenizer, 'hi', { ...llava, placement: 'prefix' }, true, 'p')).toEqual([9999, 9999, 9999, ...bosRow('hi')]);
    expect(imagePromptIds(tokenizer, 'hi', undefined, true, 'p')).toEqual(bosRow('hi'));
  });
});
