// greedyDecodeOnnx's hooks for a server: `pick` replaces argmax (sampling plugs in there) and sees the
// step's logits and the row's history; `onStep` sees each row's id (−1 once the row is done) and stops
// decoding by returning false. Checked on a tiny exported Llama against greedy decoding without hooks.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBackend } from '@mmft/core';
import { exportCausalLm, greedyDecodeOnnx } from './index';
import { tinyLlama } from './tiny-decoders.fixture';

let dir: string;
let file: string;
const PROMPTS = [
  [5, 17, 9, 30],
  [11, 3, 25, 7],
];

beforeAll(async () => {
  await ensureBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-onnx-hooks-'));
  const model = tinyLlama();
  file = (await exportCausalLm(model, path.join(dir, 'llama'))).model;
  model.dispose();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('greedyDecodeOnnx hooks', () => {
  test('pick sees the step logits and the history, and its ids are what decodes', async () => {
    const seen: Float32Array[] = [];
    await greedyDecodeOnnx(file, PROMPTS, 3, [], { onLogits: (l) => seen.push(Float32Array.from(l)) });
    const histories: number[][][] = [[], []];
    const picked: Float32Array[] = [];
    // Row r always picks 20 + r: a choice argmax would not make, so the output proves pick was used.
    const tokens = await greedyDecodeOnnx(file, PROMPTS, 3, [], {
      pick: (logits, row, history) => {
        histories[row]!.push([...history]);
        if (row === 0) picked.push(Float32Array.from(logits));
        return 20 + row;
      },
    });
    expect(tokens).toEqual([
      [20, 20, 20],
      [21, 21, 21],
    ]);
    expect(histories[0]).toEqual([PROMPTS[0], [...PROMPTS[0]!, 20], [...PROMPTS[0]!, 20, 20]]);
    expect(histories[1]![2]).toEqual([...PROMPTS[1]!, 21, 21]);
    // Step 0's logits are the prompt's whatever is picked later: the same as the unhooked run's row 0.
    expect(Array.from(picked[0]!)).toEqual(Array.from(seen[0]!.subarray(0, picked[0]!.length)));
  });

  test('onStep gets −1 for a finished row and stops decoding when it returns false', async () => {
    const steps: Array<readonly number[]> = [];
    const tokens = await greedyDecodeOnnx(file, PROMPTS, 10, [2], {
      // Row 0 ends at once with EOS 2; row 1 goes on with 7.
      pick: (_logits, row) => (row === 0 ? 2 : 7),
      onStep: (ids, step) => {
        steps.push([...ids]);
        return step < 2;
      },
    });
    expect(steps).toEqual([
      [2, 7],
      [-1, 7],
      [-1, 7],
    ]);
    expect(tokens).toEqual([[2], [7, 7, 7]]);
  });
});
