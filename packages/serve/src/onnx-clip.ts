// Embeddings from a CLIP export's two halves, `text_model.onnx` / `vision_model.onnx`, which
// transformers.js loads as CLIPTextModelWithProjection / CLIPVisionModelWithProjection. Their embeds
// are not normalised (transformers src/transformers/models/clip/modeling_clip.py normalises only in
// CLIPModel.forward), so they are L2-normalised here as TfjsEngine's text_embeds / image_embeds are.
import type * as Ort from 'onnxruntime-node';
import type { EmbeddingInput } from './engine';
import { onnxPixels, type Json, type OnnxPromptSource } from './onnx-prompt';
import { ort } from './onnx-runtime';

/** Scales a vector to unit length (a zero vector stays zero). */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm === 0 ? v : v.map((x) => x / norm);
}

/**
 * One unit vector per input, in order: texts through `text_model.onnx`, images through `vision_model.onnx`.
 *
 * @example
 * const [a, b] = await onnxEmbed(source, sessions, [{ text: 'a red circle' }, { image: bytes }]);
 */
export async function onnxEmbed(
  source: Pick<OnnxPromptSource, 'dir' | 'folder' | 'text'>,
  sessions: Readonly<Record<string, Ort.InferenceSession>>,
  inputs: readonly EmbeddingInput[],
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const T = ort().Tensor;
  for (const input of inputs) {
    if ('text' in input) {
      const maxLength = ((source.folder.config.text_config as Json | undefined)?.max_position_embeddings as number | undefined) ?? 77;
      const { inputIds, attentionMask } = source.text().encode([input.text], { truncation: true, maxLength });
      const n = inputIds[0]!.length;
      const result = await sessions['text_model.onnx']!.run({
        input_ids: new T('int64', BigInt64Array.from(inputIds[0]!, BigInt), [1, n]),
        attention_mask: new T('int64', BigInt64Array.from(attentionMask[0]!, BigInt), [1, n]),
      });
      out.push(l2Normalize(Float32Array.from(result.text_embeds!.data as Float32Array)));
    } else {
      const pixels = await onnxPixels(source.dir, source.folder, input.image);
      const result = await sessions['vision_model.onnx']!.run({ pixel_values: new T('float32', pixels.data, [...pixels.dims]) });
      out.push(l2Normalize(Float32Array.from(result.image_embeds!.data as Float32Array)));
    }
  }
  return out;
}
