// exportCausalLm: a loaded causal LM (Llama, OPT, GPT-2) as one `model.onnx` decoder with its KV cache
// in optimum's layout (huggingface/optimum-onnx optimum/exporters/onnx/model_configs.py LlamaOnnxConfig,
// OPTOnnxConfig, GPT2OnnxConfig; config.py TextDecoderWithPositionIdsOnnxConfig; base.py
// OnnxConfigWithPast), i.e. the single-file form with use_past_in_inputs whose first step takes past
// tensors of length 0. config.json, generation_config.json and the tokenizer files go beside it, as
// optimum-cli writes them, so onnxruntime or transformers.js can load the folder.
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import { TRANSFORMERS_VERSION } from '@mmft/core/lm';
import { OnnxGraph, writeOnnxModel } from '../onnx/graph';
import { useWeights, weightsOf } from '../onnx/layers';
import { configFields, type ConfigFields } from './config-fields';
import { emitGpt2 } from './gpt2';
import type { DecoderDims } from './kv-cache';
import { emitLlama } from './llama';
import { emitOpt } from './opt';

export {
  decoderInfo,
  decoderLogits,
  greedyDecodeOnnx,
  positionIdsFromMask,
  type DecoderLogits,
  type DecoderSource,
  type GreedyDecodeOptions,
  type OnnxDecoderInfo,
} from './decode';
export type { DecoderDims } from './kv-cache';

/** The transformers classes, by model_type, written to config.json `architectures`. */
const EMITTERS: Readonly<Record<string, { architecture: string; emit: (g: OnnxGraph, c: ConfigFields) => DecoderDims }>> = {
  llama: { architecture: 'LlamaForCausalLM', emit: emitLlama },
  opt: { architecture: 'OPTForCausalLM', emit: emitOpt },
  gpt2: { architecture: 'GPT2LMHeadModel', emit: emitGpt2 },
};

/** model_type values `exportCausalLm` writes. */
export const CAUSAL_LM_MODEL_TYPES: readonly string[] = Object.keys(EMITTERS);

/** Options of `exportCausalLm`. */
export interface CausalLmExportOptions {
  /** ai.onnx opset (default 17; the graph uses nothing newer). */
  readonly opset?: number;
  /** Initializers above this many bytes in total go to `model.onnx_data` (default 2 GiB). */
  readonly externalDataThreshold?: number;
  /** producer_version written into the model. */
  readonly producerVersion?: string;
  /** The graph's file name (default model.onnx; model_bnb4.onnx with 4-bit Linears, transformers.js's dtype suffix). */
  readonly fileName?: string;
  /** Extra operator domains the graph uses (com.microsoft for MatMulBnb4). */
  readonly extraOpsets?: Record<string, number>;
  /** Called on the graph before it is emitted (the 4-bit path installs its MatMulBnb4 Linears here). */
  readonly prepareGraph?: (g: OnnxGraph) => void;
}

/** What `exportCausalLm` wrote. */
export interface CausalLmExportResult {
  /** Every file written, model.onnx first. */
  readonly files: string[];
  /** Path of model.onnx. */
  readonly model: string;
  readonly dims: DecoderDims;
}

/** What the exporter reads from a loaded causal LM besides the VisionLanguageModel contract (CausalLMBase has them). */
interface CausalLmExtras {
  readonly architecture?: string;
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
}

/**
 * Writes `outDir/model.onnx` (inputs input_ids, attention_mask, past_key_values.N.key/value,
 * position_ids → logits, present.N.key/value), config.json, generation_config.json and the
 * tokenizer files. Merge adapters into `model` first (as `mmft merge` does).
 *
 * @example
 * const model = await LlamaForCausalLM.fromPretrained('models/llama-shapes-base');
 * await exportCausalLm(model, 'out/llama-onnx');
 * const [tokens] = await greedyDecodeOnnx('out/llama-onnx/model.onnx', [[1, 523]], 10, 2);
 */
export async function exportCausalLm(
  model: VisionLanguageModel,
  outDir: string,
  options: CausalLmExportOptions = {},
): Promise<CausalLmExportResult> {
  const entry = EMITTERS[model.modelType];
  if (!entry) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `ONNX export of causal LMs knows model_type ${CAUSAL_LM_MODEL_TYPES.join(', ')}, not "${model.modelType}"`,
      {
        hint: 'export a llama, opt or gpt2 checkpoint, or add an emitter in packages/plugins/exporter-onnx/src/causal-lm',
      },
    );
  }
  const g = new OnnxGraph(`${model.modelType}-decoder`);
  useWeights(g, weightsOf(model.root));
  options.prepareGraph?.(g);
  const dims = entry.emit(g, configFields(model.config, model.modelType));
  const file = path.join(outDir, options.fileName ?? 'model.onnx');
  const written = await writeOnnxModel(g, file, {
    opset: options.opset ?? 17,
    externalDataThreshold: options.externalDataThreshold,
    producerVersion: options.producerVersion,
    extraOpsets: options.extraOpsets,
  });
  const extras = model as VisionLanguageModel & CausalLmExtras;
  const files = [...written.files];
  const write = async (name: string, bytes: Uint8Array | string) => {
    const target = path.join(outDir, name);
    await fs.writeFile(target, bytes);
    files.push(target);
  };
  // As save_pretrained writes it, with use_cache on: optimum and transformers.js read it to find the cache inputs.
  await write(
    'config.json',
    hfJson({
      ...model.config,
      architectures: [extras.architecture ?? entry.architecture],
      model_type: model.modelType,
      torch_dtype: 'float32',
      transformers_version: TRANSFORMERS_VERSION,
      use_cache: true,
    }),
  );
  if (extras.generationConfig && Object.keys(extras.generationConfig).length > 0)
    await write('generation_config.json', hfJson(extras.generationConfig));
  for (const [name, bytes] of extras.tokenizerFiles ?? []) await write(name, bytes);
  return { files, model: file, dims };
}
