// The `onnx` exporter's config (an `export: { type: onnx }` recipe section, or what the CLI passes).
import { z } from 'zod';

export const onnxExportConfigSchema = z.strictObject({
  opset: z
    .literal(17)
    .default(17)
    .describe('ai.onnx opset of the graphs: 17 only for now (LayerNormalization, Erf-based GELU; IR version 8)'),
  externalDataThreshold: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3)
    .describe('total initializer bytes above which weights go to <file>_data (protobuf caps a message at 2 GiB)'),
  keep4bit: z
    .boolean()
    .default(false)
    .describe('write 4-bit (QLoRA) Linears as com.microsoft MatMulBnb4 in *_bnb4.onnx graphs instead of dequantising them to float32'),
  sourceDir: z
    .string()
    .optional()
    .describe('checkpoint folder whose config, tokenizer and preprocessor files are copied beside the graphs'),
});
export type OnnxExportConfig = z.infer<typeof onnxExportConfigSchema>;
