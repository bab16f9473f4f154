// The `onnx` exporter provider: config schema and the call into exportOnnx.
import { parseConfig, type ExporterProvider } from '@mmft/core';
import { z } from 'zod';
import { exportOnnx } from './export';
import { checkParity } from './parity';

export const onnxExportConfigSchema = z.strictObject({
  opset: z.literal(17).default(17).describe('ai.onnx opset of the graphs: 17 only for now (LayerNormalization, Erf-based GELU; IR version 8)'),
  externalDataThreshold: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3)
    .describe('total initializer bytes above which weights go to <file>_data (protobuf caps a message at 2 GiB)'),
  sourceDir: z.string().optional().describe('checkpoint folder whose config, tokenizer and preprocessor files are copied beside the graphs'),
});
export type OnnxExportConfig = z.infer<typeof onnxExportConfigSchema>;

/**
 * Provider of exporter `onnx`: CLIP (model / text_model / vision_model .onnx) and causal LMs
 * (llama, opt, gpt2: one model.onnx with its KV cache), optimum's input and output names.
 *
 * @example
 * await onnxExporter.export(model, onnxExporter.configSchema.parse({}), 'out/onnx');
 */
export const onnxExporter: ExporterProvider<OnnxExportConfig> = {
  kind: 'exporter',
  id: 'onnx',
  format: 'onnx',
  description: "ONNX (opset 17) with optimum's input/output names, for onnxruntime-node and transformers.js",
  configSchema: onnxExportConfigSchema,
  export: async (model, config, outDir) => {
    const c = parseConfig(onnxExporter, config);
    return exportOnnx(model, outDir, { opset: c.opset, externalDataThreshold: c.externalDataThreshold, sourceDir: c.sourceDir });
  },
  check: (model, outDir, options) => checkParity(model, outDir, options),
};
