// The `onnx` exporter provider: export through exportOnnx, check through checkParity.
import { parseConfig, type ExporterProvider } from '@mmft/core';
import { onnxExportConfigSchema, type OnnxExportConfig } from './config';
import { exportOnnx } from './export';
import { checkParity } from './parity';

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
    return exportOnnx(model, outDir, {
      opset: c.opset,
      externalDataThreshold: c.externalDataThreshold,
      sourceDir: c.sourceDir,
      keep4bit: c.keep4bit,
    });
  },
  check: (model, outDir, options) => checkParity(model, outDir, options),
};
