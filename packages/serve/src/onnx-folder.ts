// Which layout a folder written by `mmft export onnx` holds (docs/onnx.md): the file names are
// transformers.js's (a causal LM's `model.onnx`, a vision-to-LLM's `onnx/decoder_model_merged.onnx`,
// CLIP's `text_model.onnx` + `vision_model.onnx`), each possibly with its `_bnb4` dtype suffix.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Which exported layout a folder holds. */
export type OnnxLayout = 'causal-lm' | 'vision-to-llm' | 'clip';

/** An export found in a folder: its layout and the graph suffix ('' or '_bnb4', transformers.js's bnb4 dtype). */
export interface OnnxExport {
  readonly layout: OnnxLayout;
  readonly suffix: '' | '_bnb4';
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/**
 * The ONNX export in `dir`, or undefined when there is none (a tfjs checkpoint folder). The float32
 * graphs win over `_bnb4` ones when both are there.
 *
 * @example
 * await detectOnnxExport('out/llama-onnx'); // { layout: 'causal-lm', suffix: '' }
 */
export async function detectOnnxExport(dir: string): Promise<OnnxExport | undefined> {
  if ((await exists(path.join(dir, 'text_model.onnx'))) && (await exists(path.join(dir, 'vision_model.onnx'))))
    return { layout: 'clip', suffix: '' };
  for (const suffix of ['', '_bnb4'] as const) {
    if (await exists(path.join(dir, 'onnx', `decoder_model_merged${suffix}.onnx`))) return { layout: 'vision-to-llm', suffix };
  }
  for (const suffix of ['', '_bnb4'] as const)
    if (await exists(path.join(dir, `model${suffix}.onnx`))) return { layout: 'causal-lm', suffix };
  return undefined;
}
