// generateVlmOnnx / vlmPromptLogits on a hand-made export folder whose every value can be worked out
// by hand: the vision encoder passes the pixels through as features, embed_tokens maps id i to
// [i, 1], and the decoder's logits for a position with embedding [x, ·] peak at id x + 1 (so greedy
// decoding counts up) as long as the mask spans exactly the cache and the new positions; its cache is
// the embeddings seen so far. This checks where the image
// features land (reading order over rows, LLaVA / current BLIP-2; in front of the text for the
// legacy BLIP-2 layout), the widened mask, the cache hand-over and EOS / padding.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OnnxGraph, writeOnnxModel } from '../onnx/graph';
import { int64s } from '../onnx/layers';
import { generateVlmOnnx, vlmPromptLogits } from './decode';

const VOCAB = 32;
const WIDTH = 2;
let root: string;

async function toyExport(dir: string, config: Record<string, unknown>, tokensPerImage: number): Promise<void> {
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const vision = new OnnxGraph('toy-vision');
  const pixels = vision.input('pixel_values', 'float32', ['batch_size', 1, tokensPerImage, WIDTH]);
  vision.rename(vision.op1('Reshape', [pixels, int64s(vision, [0, tokensPerImage, WIDTH])]), 'image_features');
  vision.output('image_features', 'float32', ['batch_size', tokensPerImage, WIDTH]);
  await writeOnnxModel(vision, path.join(dir, 'onnx', 'vision_encoder.onnx'));

  const embed = new OnnxGraph('toy-embed');
  const table = embed.initializer('table', {
    dtype: 'float32',
    dims: [VOCAB, WIDTH],
    data: Float32Array.from({ length: VOCAB * WIDTH }, (_, i) => (i % 2 ? 1 : i / 2)),
  });
  embed.rename(
    embed.op1('Gather', [table, embed.input('input_ids', 'int64', ['batch_size', 'sequence_length'])], { axis: 0 }),
    'inputs_embeds',
  );
  embed.output('inputs_embeds', 'float32', ['batch_size', 'sequence_length', WIDTH]);
  await writeOnnxModel(embed, path.join(dir, 'onnx', 'embed_tokens.onnx'));

  const g = new OnnxGraph('toy-decoder');
  const x = g.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', WIDTH]);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total']);
  const kv = ['batch_size', 1, 'past_sequence_length', WIDTH];
  const pastKey = g.input('past_key_values.0.key', 'float32', kv);
  const pastValue = g.input('past_key_values.0.value', 'float32', kv);
  g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  // logits[v] = −(x₀ + 1 + (mask length − past length − new length) − v)²: the argmax is x₀ + 1 when
  // the mask covers exactly the cached and the new positions, off by the difference otherwise.
  const first = g.op1('Slice', [x, int64s(g, [0]), int64s(g, [1]), int64s(g, [2])]);
  const dim = (v: string, axis: number) => g.op1('Slice', [g.op1('Shape', [v]), int64s(g, [axis]), int64s(g, [axis + 1]), int64s(g, [0])]);
  const offset = g.op1('Cast', [g.op1('Sub', [g.op1('Sub', [dim(mask, 1), dim(pastKey, 2)]), dim(x, 1)])], { to: 1 });
  const ids = g.constant({ dtype: 'float32', dims: [VOCAB], data: Float32Array.from({ length: VOCAB }, (_, v) => v - 1) }, 'ids');
  const diff = g.op1('Sub', [g.op1('Add', [first, offset]), ids]);
  g.rename(g.op1('Neg', [g.op1('Mul', [diff, diff])]), 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', VOCAB]);
  const step = g.op1('Unsqueeze', [x, int64s(g, [1])]);
  g.rename(g.op1('Concat', [pastKey, step], { axis: 2 }), 'present.0.key');
  g.rename(g.op1('Concat', [pastValue, step], { axis: 2 }), 'present.0.value');
  g.output('present.0.key', 'float32', kv);
  g.output('present.0.value', 'float32', kv);
  await writeOnnxModel(g, path.join(dir, 'onnx', 'decoder_model_merged.onnx'));
}

/** The x₀ each prompt position carried, read back from the logits' argmax. */
function carried(data: Float32Array, dims: readonly number[]): number[][] {
  const [rows, length, vocab] = dims as [number, number, number];
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length }, (_, t) => {
      const row = data.subarray((r * length + t) * vocab, (r * length + t + 1) * vocab);
      return row.indexOf(Math.max(...row)) - 1;
    }),
  );
}

// Two images of two feature tokens each: image 0 carries 20, 21 and image 1 carries 22, 23.
const pixels = { data: Float32Array.of(20, 0, 21, 0, 22, 0, 23, 0), dims: [2, 1, 2, WIDTH] };

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-vlm-decode-'));
  await toyExport(path.join(root, 'scatter'), { image_token_index: 9, eos_token_id: 7 }, 2);
  await toyExport(path.join(root, 'legacy'), { image_token_index: null, eos_token_id: 7 }, 2);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('with image tokens (LLaVA, BLIP-2 ≥ 4.45)', () => {
  it('puts the features at the image tokens in reading order, the features of all images flattened', async () => {
    const { data, dims, attentionMask } = await vlmPromptLogits(path.join(root, 'scatter'), pixels, [
      [1, 9, 9, 3],
      [9, 9, 4, 5],
    ]);
    expect(dims).toEqual([2, 4, VOCAB]);
    expect(carried(data, dims)).toEqual([
      [1, 20, 21, 3],
      [22, 23, 4, 5],
    ]);
    expect(attentionMask).toEqual([
      [1, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
  });

  it('decodes greedily through the cache, stops a row at EOS and pads it while the other goes on', async () => {
    const tokens = await generateVlmOnnx(
      path.join(root, 'scatter'),
      pixels,
      [
        [1, 9, 9, 3],
        [9, 9, 4, 5],
      ],
      6,
    );
    expect(tokens).toEqual([
      [4, 5, 6, 7],
      [6, 7],
    ]);
    expect(
      await generateVlmOnnx(
        path.join(root, 'scatter'),
        pixels,
        [
          [1, 9, 9, 3],
          [9, 9, 4, 5],
        ],
        2,
      ),
    ).toEqual([
      [4, 5],
      [6, 7],
    ]);
  });

  it('refuses a prompt whose image tokens do not match the features, saying how many it needs', async () => {
    await expect(
      vlmPromptLogits(path.join(root, 'scatter'), pixels, [
        [1, 9, 3],
        [9, 9, 4],
      ]),
    ).rejects.toThrow('the prompt has 3 image tokens (id 9) but the images give 2 × 2 features');
  });
});

describe('legacy BLIP-2 (image_token_index null)', () => {
  it('prepends each image’s features to its row and widens the mask by them', async () => {
    const { data, dims, attentionMask } = await vlmPromptLogits(
      path.join(root, 'legacy'),
      pixels,
      [
        [2, 2, 3],
        [2, 4, 5],
      ],
      {
        attentionMask: [
          [0, 1, 1],
          [1, 1, 1],
        ],
      },
    );
    expect(dims).toEqual([2, 5, VOCAB]);
    expect(carried(data, dims)).toEqual([
      [20, 21, 2, 2, 3],
      [22, 23, 2, 4, 5],
    ]);
    expect(attentionMask).toEqual([
      [1, 1, 0, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    expect(
      await generateVlmOnnx(
        path.join(root, 'legacy'),
        pixels,
        [
          [2, 2, 3],
          [2, 4, 5],
        ],
        3,
      ),
    ).toEqual([
      [4, 5, 6],
      [6, 7],
    ]);
  });

  it('names a folder that is not a vision-language export', async () => {
    await expect(vlmPromptLogits(root, pixels, [[1]])).rejects.toThrow(
      /onnx\/vision_encoder\.onnx does not exist: not a vision-language export/,
    );
  });
});
