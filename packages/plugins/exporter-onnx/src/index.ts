// @mmft/exporter-onnx: the plugin object (docs/conventions.md §5), the exporter entry points, the
// parity check against the tfjs model, and the ONNX graph builder with its layer emitters.
import { definePlugin } from '@mmft/core';
import { onnxExporter } from './plugin';

export { onnxExporter } from './plugin';
export { onnxExportConfigSchema, type OnnxExportConfig } from './config';
export { exportOnnx, prepareForExport, ONNX_MODEL_TYPES, SIDE_FILES, type OnnxExportOptions, type OnnxExportResult } from './export';
export { exportClip, clipGraph, clipFields, CLIP_PARTS, type ClipPart, type ClipFields, type ClipExportResult } from './clip';
export { checkParity, maxAbsDiff, runOnnx, type OnnxInput, type ParityOptions, type ParityReport, type ParityRow } from './parity';
export {
  exportCausalLm,
  greedyDecodeOnnx,
  decoderLogits,
  decoderInfo,
  CAUSAL_LM_MODEL_TYPES,
  type CausalLmExportOptions,
  type CausalLmExportResult,
  type DecoderLogits,
  type GreedyDecodeOptions,
  type OnnxDecoderInfo,
} from './causal-lm';
export {
  exportVlm,
  generateVlmOnnx,
  vlmPromptLogits,
  VLM_MODEL_TYPES,
  VLM_PARTS,
  type VlmDecodeOptions,
  type VlmExportOptions,
  type VlmExportResult,
  type VlmLogits,
  type VlmPart,
} from './vlm';
export { BNB4_BLOCK_SIZES, BNB4_OPSETS, BNB4_QUANT_TYPE, bnb4Weights, checkBnb4, matMulBnb4, useBnb4Linears } from './bnb4';
export * from './onnx';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [onnxExporter];

/**
 * The plugin manifest.
 *
 * @example
 * registry.use(plugin, '@mmft/exporter-onnx'); registry.resolve('exporter', 'onnx');
 */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'ONNX export (CLIP, Llama, OPT, GPT-2, LLaVA, BLIP-2) checked against onnxruntime-node',
  provides,
});
export default plugin;
