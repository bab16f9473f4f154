// exportVlm: LLaVA and BLIP-2 in the layout transformers.js loads for an image-text-to-text model
// (huggingface/transformers.js packages/transformers/src/models/session_config.js, MODEL_TYPES.ImageTextToText:
// sessions embed_tokens, decoder_model_merged, vision_encoder, read from the folder's `onnx/`
// subfolder as `onnx/${name}${suffix}.onnx`, utils/model-loader.js; the dtype suffixes are
// utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING, '' for fp32 and '_bnb4' for bnb4):
// - onnx/vision_encoder.onnx: pixel_values → image_features (modeling_utils.js encode_image);
// - onnx/embed_tokens.onnx: input_ids → inputs_embeds (encode_text);
// - onnx/decoder_model_merged.onnx: inputs_embeds, attention_mask, past_key_values.N.key/value,
//   position_ids → logits, present.N.key/value. transformers.js feeds whatever inputs the session
//   declares (decoder_forward picks by inputNames; use_cache_branch only if declared, position_ids
//   built as cumsum(mask) − 1 if declared; addPastKeyValues makes the first, empty past from the
//   input metadata), so E2's single-file decoder with an inputs_embeds entry fits unchanged.
// The decoder is the causal-LM emitter of the language model (packages/plugins/exporter-onnx/src/causal-lm)
// reading the weights under `language_model.`.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { configFields } from '../causal-lm/config-fields';
import { emitLlama } from '../causal-lm/llama';
import { emitOpt } from '../causal-lm/opt';
import type { DecoderDims } from '../causal-lm/kv-cache';
import { OnnxGraph, writeOnnxModel, type WriteOptions } from '../onnx/graph';
import { useWeights, weightInitializer, type WeightLookup } from '../onnx/layers';
import { emitBlip2ImageFeatures, emitLlavaImageFeatures, towerShape } from './encoders';

/** model_type values exportVlm writes. */
export const VLM_MODEL_TYPES: readonly string[] = ['llava', 'blip-2'];

/** The three graphs, by transformers.js session name. */
export const VLM_PARTS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;
export type VlmPart = (typeof VLM_PARTS)[number];

const DECODERS: Readonly<Record<string, (g: OnnxGraph, c: ReturnType<typeof configFields>, o: { inputsEmbeds: boolean }) => DecoderDims>> =
  {
    llama: emitLlama,
    opt: emitOpt,
  };
/** Where each language model keeps its token embedding (under `language_model.`). */
const EMBEDDING: Readonly<Record<string, string>> = { llama: 'model.embed_tokens.weight', opt: 'model.decoder.embed_tokens.weight' };

/** Options of exportVlm (WriteOptions go to every graph). */
export interface VlmExportOptions extends WriteOptions {
  /** File suffix of every graph, as transformers.js names dtypes ('' = fp32, '_bnb4' when 4-bit Linears are kept). */
  readonly suffix?: string;
  /**
   * Called on each graph before it is emitted, with the prefix its weight names leave out
   * ('language_model.' for the decoder): the 4-bit path installs its MatMulBnb4 Linears here.
   */
  readonly prepareGraph?: (g: OnnxGraph, prefix: string) => void;
}

/** What exportVlm wrote. */
export interface VlmExportResult {
  /** Every file written (graphs first, then config files). */
  readonly files: string[];
  /** The graphs by part. */
  readonly models: Readonly<Record<VlmPart, string>>;
  readonly dims: DecoderDims;
}

const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** The language model's config and model_type, as the loaded model holds them. */
function textSide(model: VisionLanguageModel): { config: Record<string, unknown>; modelType: string } {
  const lm = (model as VisionLanguageModel & { languageModel?: { config: Record<string, unknown>; modelType: string } }).languageModel;
  const config = lm?.config ?? record(model.config.text_config);
  const modelType = lm?.modelType ?? String(config.model_type ?? '');
  if (!DECODERS[modelType]) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${model.modelType} export: its language model is "${modelType}"; the decoder is written for ${Object.keys(DECODERS).join(', ')}`,
      {
        hint: 'export a LLaVA with a Llama language model or a BLIP-2 with an OPT one, or add the decoder emitter in src/vlm/index.ts',
      },
    );
  }
  return { config, modelType };
}

/** Weights of the sub-model under `prefix`, asked for by their own names. */
const under =
  (weights: WeightLookup, prefix: string): WeightLookup =>
  (name) =>
    weights(`${prefix}${name}`);

/** The vision_encoder graph; `width` is the language model's embedding width (the projector's output; a 4-bit projector's weight is not in the state dict to read it from). */
function visionGraph(model: VisionLanguageModel, weights: WeightLookup, width: number, options: VlmExportOptions): OnnxGraph {
  const c = model.config;
  const g = new OnnxGraph(`${model.modelType}-vision_encoder`);
  useWeights(g, weights);
  options.prepareGraph?.(g, '');
  const vision = towerShape(record(c.vision_config));
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  let features: string;
  let tokens: number;
  if (model.modelType === 'llava') {
    const layers = Array.isArray(c.vision_feature_layer) ? (c.vision_feature_layer as number[]) : [Number(c.vision_feature_layer ?? -2)];
    const strategy = String(c.vision_feature_select_strategy ?? 'default');
    const projector =
      c.mm_projector_type === undefined
        ? 2
        : c.mm_projector_type === 'linear'
          ? 1
          : Number(/^mlp(\d+)x_gelu$/.exec(String(c.mm_projector_type))?.[1]);
    if (!Number.isInteger(projector) || projector < 1) {
      throw new MmftError('E_CONFIG', `mm_projector_type "${String(c.mm_projector_type)}" is not a LLaVA projector`, {
        hint: 'use linear or mlpNx_gelu',
      });
    }
    features = emitLlavaImageFeatures(g, pixels, vision, {
      featureLayers: layers,
      strategy,
      projectorLayers: projector,
      projectorAct: c.mm_projector_type === undefined ? String(c.projector_hidden_act ?? 'gelu') : 'gelu',
      projectorBias: c.multimodal_projector_bias !== false,
    });
    tokens = (vision.imageSize / vision.patchSize) ** 2 + (strategy === 'full' ? 1 : 0);
  } else {
    const q = record(c.qformer_config);
    const queries = Number(c.num_query_tokens);
    features = emitBlip2ImageFeatures(g, pixels, vision, {
      hiddenSize: Number(q.hidden_size),
      heads: Number(q.num_attention_heads),
      layers: Number(q.num_hidden_layers),
      act: String(q.hidden_act ?? 'gelu'),
      eps: Number(q.layer_norm_eps ?? 1e-12),
      crossAttentionFrequency: Number(q.cross_attention_frequency ?? 2),
      queries,
    });
    tokens = queries;
  }
  g.rename(features, 'image_features');
  g.output('image_features', 'float32', ['batch_size', tokens, width]);
  return g;
}

/** embed_tokens: the language model's token embedding; image-token ids (which may lie past the vocabulary) read row 0, as HF zeroes them before embedding. */
function embedGraph(model: VisionLanguageModel, weights: WeightLookup, lmType: string, options: VlmExportOptions): OnnxGraph {
  const g = new OnnxGraph(`${model.modelType}-embed_tokens`);
  useWeights(g, weights);
  options.prepareGraph?.(g, '');
  const table = weightInitializer(g, `language_model.${EMBEDDING[lmType]}`);
  let ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const imageToken = model.config.image_token_index ?? model.config.image_token_id;
  if (typeof imageToken === 'number') {
    const id = g.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(imageToken)) }, 'image_token');
    const zero = g.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(0n) }, 'zero');
    ids = g.op1('Where', [g.op1('Equal', [ids, id]), zero, ids]);
  }
  const embeds = g.op1('Gather', [table, ids], { axis: 0 });
  g.rename(embeds, 'inputs_embeds');
  g.output('inputs_embeds', 'float32', ['batch_size', 'sequence_length', weights(`language_model.${EMBEDDING[lmType]}`).dims[1]!]);
  return g;
}

/**
 * Writes `outDir/onnx/{vision_encoder,embed_tokens,decoder_model_merged}${suffix}.onnx` and
 * config.json / generation_config.json beside `onnx/` (the caller copies the tokenizer and
 * preprocessor files). Merge adapters into `model` first.
 *
 * @example
 * const { models } = await exportVlm(llava, weightsOf(llava.root), 'out/llava-onnx');
 * const tokens = await generateVlmOnnx('out/llava-onnx', pixels, [[1, ...imageTokens, 311]], 20);
 */
export async function exportVlm(
  model: VisionLanguageModel,
  weights: WeightLookup,
  outDir: string,
  options: VlmExportOptions = {},
): Promise<VlmExportResult> {
  if (!VLM_MODEL_TYPES.includes(model.modelType)) {
    throw new MmftError('E_UNSUPPORTED', `exportVlm writes ${VLM_MODEL_TYPES.join(', ')}, not "${model.modelType}"`);
  }
  const { config: textConfig, modelType: lmType } = textSide(model);
  const suffix = options.suffix ?? '';
  const { suffix: _s, prepareGraph: _p, ...write } = options;
  const onnxDir = path.join(outDir, 'onnx');
  await fs.mkdir(onnxDir, { recursive: true });

  const decoder = new OnnxGraph(`${model.modelType}-decoder_model_merged`);
  const lmWeights = under(weights, 'language_model.');
  useWeights(decoder, lmWeights);
  options.prepareGraph?.(decoder, 'language_model.');
  const dims = DECODERS[lmType]!(decoder, configFields(textConfig, lmType), { inputsEmbeds: true });

  const graphs: Record<VlmPart, OnnxGraph> = {
    vision_encoder: visionGraph(model, weights, weights(`language_model.${EMBEDDING[lmType]}`).dims[1]!, options),
    embed_tokens: embedGraph(model, weights, lmType, options),
    decoder_model_merged: decoder,
  };
  const files: string[] = [];
  const models = {} as Record<VlmPart, string>;
  for (const part of VLM_PARTS) {
    const file = path.join(onnxDir, `${part}${suffix}.onnx`);
    const written = await writeOnnxModel(graphs[part], file, write);
    files.push(...written.files);
    models[part] = file;
  }
  const generation = (model as VisionLanguageModel & { generationConfig?: Record<string, unknown> }).generationConfig;
  if (generation && Object.keys(generation).length > 0) {
    const target = path.join(outDir, 'generation_config.json');
    await fs.writeFile(target, `${JSON.stringify(generation, null, 2)}\n`);
    files.push(target);
  }
  return { files, models, dims };
}

export { generateVlmOnnx, vlmPromptLogits, type VlmDecodeOptions, type VlmLogits } from './decode';
