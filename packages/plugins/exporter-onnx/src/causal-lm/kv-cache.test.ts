// The shared decoder pieces on hand-checked cases: the additive mask over past + new keys, positions
// from a left-padded mask, and the names and symbolic dims optimum gives a decoder's inputs and outputs.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { MASK_MIN } from '@mmft/core/nn';
import { OnnxGraph, writeOnnxModel } from '../onnx/graph';
import { positionIdsFromMask } from './decode';
import { declareDecoderInputs, decoderMask } from './kv-cache';

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);

describe('decoderMask', () => {
  test('two new tokens after two cached, the first cached one padding: the hand-written [1, 1, 2, 4] mask', async () => {
    const g = new OnnxGraph('mask');
    const inputs = declareDecoderInputs(g, { layers: 0, kvHeads: 1, headDim: 1, vocabSize: 1 });
    const mask = decoderMask(g, inputs);
    g.output(mask, 'float32', ['batch_size', 1, 'sequence_length', 'past_sequence_length + sequence_length']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-mask-'));
    try {
      await writeOnnxModel(g, path.join(dir, 'mask.onnx'));
      const session = await ort.InferenceSession.create(path.join(dir, 'mask.onnx'), { executionProviders: ['cpu'] });
      const out = await session.run({
        input_ids: int64([7, 8], [1, 2]),
        attention_mask: int64([0, 1, 1, 1], [1, 4]),
        position_ids: int64([0, 1], [1, 2]),
      });
      const m = out[mask]!;
      expect(m.dims).toEqual([1, 1, 2, 4]);
      const X = Math.fround(MASK_MIN);
      // Query 0 sits at position 2: keys 0..2 minus the padded key 0; query 1 at position 3 sees keys 1..3.
      expect([...(m.data as Float32Array)]).toEqual([X, 0, 0, X, X, 0, 0, 0]);
      await session.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('positionIdsFromMask', () => {
  test('cumsum(mask) − 1 with padded places 1, the last columns of each row', () => {
    const mask = [
      [0, 0, 1, 1],
      [1, 1, 1, 1],
    ];
    expect(positionIdsFromMask(mask, 4)).toEqual([
      [1, 1, 0, 1],
      [0, 1, 2, 3],
    ]);
    expect(positionIdsFromMask(mask, 1)).toEqual([[1], [3]]);
  });
});
