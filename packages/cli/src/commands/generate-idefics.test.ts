// `mmft generate` on a saved IDEFICS with several images in one prompt: the prompts take the --image
// files in order, one per `<image>` mark; the printed tokens are those of a reference argmax loop
// over the model's full forward (no cache; ids written by hand: bos, the pieces of text, 654 for
// each mark) with the images in reading order, row by row, and a swap of two images changes them.
// The model is composed from tiny part folders (@mmft/arch-idefics/testing) with its gates opened.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, type TextTokenizer } from '@mmft/core';
import { clipVisionArchitecture } from '@mmft/arch-clip';
import { llamaProvider } from '@mmft/arch-llama';
import { ideficsProvider, IdeficsForVisionText2Text, type IdeficsConfig } from '@mmft/arch-idefics';
import { writeTinyIdeficsParts } from '@mmft/arch-idefics/testing';
import { renderScenePng, sampleScene } from '@mmft/data-shapes';
import { generateCommand } from './generate';
import { imagePixels, imageRows, severalImagePromptIds } from './generate-image';
import { runCommands } from './fixtures.test-helper';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/arch-idefics'];
const LLAMA_DIR = path.join(__dirname, '../../../../models/llama-shapes-base');
const IMAGE = 654;
const EOS = 2;
const context = architectureContext({ list: () => [clipVisionArchitecture, llamaProvider, ideficsProvider] });
let tmp: string;
let model: IdeficsForVisionText2Text;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-generate-idefics-'));
  const parts = await writeTinyIdeficsParts(tmp, context, LLAMA_DIR, 654);
  const section = {
    seed: 7,
    config: {
      use_resampler: true,
      perceiver_config: { resampler_n_latents: 2, resampler_depth: 1, resampler_n_heads: 2, resampler_head_dim: 4 },
    },
    init: { vision: parts.vision, language_model: parts.languageModel },
  };
  const composed = (await ideficsProvider.fromConfig(section as unknown as IdeficsConfig, context)) as IdeficsForVisionText2Text;
  // Gates open: the images must change the tokens for the test to see which image went where.
  tf.tidy(() => {
    for (const [name, v] of composed.root.stateDict()) if (/alpha_(cross_attn|dense)$/.test(name)) v.assign(tf.fill(v.shape, 1));
  });
  await composed.save(path.join(tmp, 'idefics'));
  composed.dispose();
  model = await IdeficsForVisionText2Text.fromPretrained(path.join(tmp, 'idefics'), {}, context);
  tokenizer = model.tokenizer!;
  for (const [name, seed] of [
    ['a.png', 1],
    ['b.png', 2],
    ['c.png', 3],
  ] as const)
    fs.writeFileSync(path.join(tmp, name), await renderScenePng(sampleScene(seed, 0, 'A', 3), 8));
});
afterAll(() => {
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (argv: string[]) => runCommands((ctx) => [generateCommand(ctx)], ['generate', ...argv], { cwd: tmp, builtins: BUILTINS });

const bare = (text: string) => tokenizer.encode([text], { truncation: false, addSpecialTokens: false }).inputIds[0]!;
const withBos = (text: string) => tokenizer.encode([text], { truncation: false, addSpecialTokens: true }).inputIds[0]!;

/** `steps` argmax steps (eos excluded: the runs ask for min-new-tokens = max) over the full forward of one unpadded row. */
async function referenceGreedy(ids: number[], files: string[], steps: number): Promise<number[]> {
  const pixelValues = await imagePixels(
    model,
    files.map((f) => path.join(tmp, f)),
  );
  const row = [...ids];
  try {
    for (let s = 0; s < steps; s++) {
      const logits = tf.tidy(() =>
        tf.slice(
          model.forward({ inputIds: tf.tensor2d([row], [1, row.length], 'int32'), pixelValues }).logits,
          [0, row.length - 1, 0],
          [1, 1, -1],
        ),
      );
      const last = Array.from(logits.dataSync());
      logits.dispose();
      last[EOS] = -Infinity;
      row.push(last.indexOf(Math.max(...last)));
    }
  } finally {
    pixelValues.dispose();
  }
  return row.slice(ids.length);
}

describe('several <image> marks in one prompt', () => {
  test('rows take the images in order, one per mark; the counts must add up', () => {
    expect(imageRows(['a', 'b', 'c'], ['<image>x<image>y', 'z'])).toEqual([
      { image: 0, images: [0, 1], prompt: '<image>x<image>y' },
      { image: 2, prompt: 'z' },
    ]);
    expect(imageRows(['a', 'b'], ['<image>x<image>y'])).toEqual([{ image: 0, images: [0, 1], prompt: '<image>x<image>y' }]);
    expect(() => imageRows(['a', 'b'], ['<image>x<image>y', 'z'])).toThrow(
      /marks \(2 \+ 1, a prompt without one counting 1\) take 3 images but 2 --image/,
    );
  });

  test('ids: bos and the first piece, then per mark the span and the next piece tokenized on its own', () => {
    const span = { tokenId: IMAGE, count: 1, placement: 'placeholder' as const };
    expect(severalImagePromptIds(tokenizer, '<image>Output: a red circle<image>Output:', span, true, 'p')).toEqual([
      ...withBos(''),
      IMAGE,
      ...bare('Output: a red circle'),
      IMAGE,
      ...bare('Output:'),
    ]);
    expect(severalImagePromptIds(tokenizer, 'x<image><image>', { ...span, count: 2 }, true, 'p')).toEqual([
      ...withBos('x'),
      IMAGE,
      IMAGE,
      IMAGE,
      IMAGE,
    ]);
  });

  test('mmft generate --json: two rows (two images, then one) equal the reference loop; swapping the first two images changes row 1', async () => {
    const prompts = ['<image>Output: a red circle<image>Output:', '<image>Output:'];
    const args = ['idefics', '--image', 'a.png', '--image', 'b.png', '--image', 'c.png', '--prompt', prompts[0]!, '--prompt', prompts[1]!];
    const { stdout, stderr } = await run([...args, '--max-new-tokens', '4', '--min-new-tokens', '4', '--json']);
    expect(stderr).toBe('');
    const out = JSON.parse(stdout) as { images: unknown[]; sequences: number[][]; texts: string[] };
    expect(out.images).toEqual([['a.png', 'b.png'], 'c.png']);
    const row0 = [...withBos(''), IMAGE, ...bare('Output: a red circle'), IMAGE, ...bare('Output:')];
    const row1 = [...withBos(''), IMAGE, ...bare('Output:')];
    const expected0 = await referenceGreedy(row0, ['a.png', 'b.png'], 4);
    const expected1 = await referenceGreedy(row1, ['c.png'], 4);
    expect(out.sequences.map((s) => s.slice(-4))).toEqual([expected0, expected1]);
    expect(await referenceGreedy(row0, ['b.png', 'a.png'], 4)).not.toEqual(expected0);
  });

  test('a prompt with two marks and one image is an E_INPUT error naming the counts', async () => {
    const { stderr } = await run(['idefics', '--image', 'a.png', '--prompt', '<image>x<image>y']);
    expect(stderr).toMatch(/take 2 images but 1 --image were given/);
  });
});
