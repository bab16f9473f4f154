// `mmft export onnx --check` for LLaVA and BLIP-2: two images and two prompts, the shorter one
// left-padded, through the exported folder as transformers.js chains it (vlmPromptLogits) and through
// the tfjs model's forward; logits compared at every position the decoder attends.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import type { ParityRow } from '../parity';
import { vlmPromptLogits } from './decode';

/** Deterministic pixels in [-1, 1) (a linear congruential sequence). */
function pixels(count: number, size: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: count * 3 * size * size }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 30 - 1);
}

/** The prompts as the processors lay them out: LLaVA bos + image tokens + text; BLIP-2 image tokens (when it has them) + bos + text. */
export function vlmParityPrompts(model: VisionLanguageModel, texts: readonly string[]): { ids: number[][]; mask: number[][] } {
  const tokenizer = model.tokenizer;
  if (!tokenizer) throw new MmftError('E_CHECKPOINT', 'parity needs the model tokenizer (tokenizer.json)');
  const c = model.config as Record<string, unknown>;
  const text = (c.text_config ?? {}) as Record<string, unknown>;
  const bos = typeof text.bos_token_id === 'number' ? text.bos_token_id : undefined;
  const imageToken = (c.image_token_index ?? c.image_token_id) as number | null | undefined;
  const images =
    typeof imageToken !== 'number' ? 0 : model.modelType === 'llava' ? Number(c.image_seq_length ?? 0) : Number(c.num_query_tokens ?? 0);
  const rows = texts.map((t) => {
    const body = tokenizer.encode([t], { truncation: true }).inputIds[0]!.filter((id) => id !== bos);
    const image = new Array<number>(images).fill(imageToken as number);
    const start = bos === undefined ? [] : [bos];
    return model.modelType === 'llava' ? [...start, ...image, ...body] : [...image, ...start, ...body];
  });
  const width = Math.max(...rows.map((r) => r.length));
  const pad = typeof text.pad_token_id === 'number' ? text.pad_token_id : 0;
  return {
    ids: rows.map((r) => [...new Array<number>(width - r.length).fill(pad), ...r]),
    mask: rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]),
  };
}

/** Appends the logits row of the exported folder `dir` (fp32 or `_bnb4` graphs, whichever is there). */
export async function vlmParity(model: VisionLanguageModel, dir: string, texts: readonly string[], rows: ParityRow[]): Promise<void> {
  const suffix = existsSync(path.join(dir, 'onnx', 'decoder_model_merged_bnb4.onnx')) ? '_bnb4' : '';
  const size = Number(((model.config as Record<string, unknown>).vision_config as Record<string, unknown> | undefined)?.image_size ?? 224);
  const { ids, mask } = vlmParityPrompts(model, texts.slice(0, 2));
  const pix = pixels(ids.length, size);
  const onnx = await vlmPromptLogits(dir, { data: pix, dims: [ids.length, 3, size, size] }, ids, { attentionMask: mask, suffix });
  tf.engine().startScope();
  try {
    const logits = model.forward({
      inputIds: tf.tensor2d(ids, undefined, 'int32'),
      attentionMask: tf.tensor2d(mask, undefined, 'int32'),
      pixelValues: tf.tensor4d(pix, [ids.length, 3, size, size]),
    }).logits!;
    const expected = logits.dataSync() as Float32Array;
    const [batch, length, vocab] = onnx.dims;
    let max = logits.shape.join() === onnx.dims.join() ? 0 : Infinity;
    for (let r = 0; r < batch && max < Infinity; r++)
      for (let t = 0; t < length; t++) {
        if (onnx.attentionMask[r]![t] === 0) continue; // padded places are read by no one
        for (let v = 0; v < vocab; v++) {
          const d = Math.abs(onnx.data[(r * length + t) * vocab + v]! - expected[(r * length + t) * vocab + v]!);
          max = Number.isNaN(d) ? Infinity : Math.max(max, d);
        }
      }
    rows.push({ file: `onnx/decoder_model_merged${suffix}.onnx`, output: 'logits', dims: [...onnx.dims], maxAbsDiff: max });
  } finally {
    tf.engine().endScope();
  }
}
