// The exporter's entry point: picks the graph writer by model_type, after checking that adapters
// were merged and bringing 16/4-bit weights back to float32 (MatMulBnb4 is a later step), and copies
// the files a runtime needs beside the graphs (config, tokenizer, preprocessor), as optimum's
// `main_export` saves the config and preprocessors next to model.onnx.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { Linear } from '@mmft/core/nn';
import { exportClip } from './clip';
import { exportCausalLm } from './causal-lm';
import { exportVlm } from './vlm';
import { BNB4_OPSETS, bnb4Weights, useBnb4Linears } from './bnb4';
import { DEFAULT_EXTERNAL_DATA_THRESHOLD, type OnnxGraph } from './onnx/graph';
import { weightsOf } from './onnx/layers';

/** model_type values the ONNX exporter writes, by what it writes. */
export const ONNX_MODEL_TYPES = { dualEncoder: ['clip'], causalLm: ['llama', 'opt', 'gpt2'], visionLanguage: ['llava', 'blip-2'] } as const;
const SUPPORTED: readonly string[] = [...ONNX_MODEL_TYPES.dualEncoder, ...ONNX_MODEL_TYPES.causalLm, ...ONNX_MODEL_TYPES.visionLanguage];

/** Options of `exportOnnx`. */
export interface OnnxExportOptions {
  /** ai.onnx opset (default 17; the graphs use nothing newer). */
  opset?: number;
  /** Initializers above this many bytes in total go to `<file>_data` (default 2 GiB). */
  externalDataThreshold?: number;
  /** The checkpoint folder the model came from: its config/tokenizer/preprocessor files are copied. Without it they come from model.save(). */
  sourceDir?: string;
  producerVersion?: string;
  /**
   * Keep the model's 4-bit Linears as com.microsoft MatMulBnb4 (graphs named with transformers.js's
   * `_bnb4` suffix) instead of dequantising them to float32 (the default).
   */
  keep4bit?: boolean;
}

/** What `exportOnnx` wrote. */
export interface OnnxExportResult {
  /** Every file written (graphs first). */
  files: string[];
  /** The ONNX graphs among them. */
  models: string[];
}

/** Side files a runtime reads next to the graphs (transformers.js and optimum look for these names). */
export const SIDE_FILES: readonly string[] = [
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'processor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'vocab.txt',
  'merges.txt',
  'chat_template.json',
  'chat_template.jinja',
];

/**
 * Refuses a model that still carries unmerged adapter layers (their weights would be silently
 * left out) and restores every 16- or 4-bit Linear weight to float32. Returns how many were restored.
 */
export function prepareForExport(model: VisionLanguageModel, options: { keep4bit?: boolean } = {}): number {
  const adapterNames = [...model.root.stateDict().keys()].filter((n) =>
    /(^|\.)(lora_[AB]|lora_embedding_[AB]|base_layer|adapter_(down|up))(\.|$)/.test(n),
  );
  if (adapterNames.length > 0) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `the model still holds adapter weights (${adapterNames.slice(0, 3).join(', ')}${adapterNames.length > 3 ? ', ...' : ''}); ONNX export writes merged weights only`,
      { hint: 'merge the adapter first: mmft export onnx <base> --adapter <dir> merges it, as mmft merge does' },
    );
  }
  let restored = 0;
  for (const layer of new Set(model.root.namedModules().map(([, m]) => m))) {
    if (layer instanceof Linear && (layer.packedWeight || (layer.packedWeight4bit && !options.keep4bit))) {
      layer.restoreWeight32();
      restored += 1;
    }
  }
  return restored;
}

async function copySideFiles(
  model: VisionLanguageModel,
  outDir: string,
  sourceDir: string | undefined,
  skip: ReadonlySet<string>,
): Promise<string[]> {
  let from = sourceDir;
  let temp: string | undefined;
  if (!from) {
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'mmft-onnx-side-'));
    await model.save(temp, { force: true });
    from = temp;
  }
  try {
    const copied: string[] = [];
    for (const name of SIDE_FILES) {
      if (skip.has(name)) continue;
      const source = path.join(from, name);
      try {
        await fs.copyFile(source, path.join(outDir, name));
        copied.push(path.join(outDir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return copied;
  } finally {
    if (temp) await fs.rm(temp, { recursive: true, force: true });
  }
}

/** The 4-bit weights `--keep-4bit` writes as MatMulBnb4: refused for CLIP, and when there are none. */
function keep4bitWeights(model: VisionLanguageModel): ReturnType<typeof bnb4Weights> {
  if ((ONNX_MODEL_TYPES.dualEncoder as readonly string[]).includes(model.modelType)) {
    throw new MmftError('E_UNSUPPORTED', `keep4bit: the ${model.modelType} export has no MatMulBnb4 path; it writes float32 graphs`, {
      hint: 'export without --keep-4bit (4-bit Linears are then dequantised to float32)',
    });
  }
  const weights = bnb4Weights(model);
  if (weights.size === 0) {
    throw new MmftError('E_CONFIG', `keep4bit: the ${model.modelType} model holds no 4-bit Linear weight`, {
      hint: 'load the QLoRA base in 4 bits (a bitsandbytes checkpoint, or a recipe with quantization: load_in_4bit), or drop --keep-4bit',
    });
  }
  return weights;
}

/**
 * Adds `"transformers.js_config": { "dtype": "bnb4" }` to the copied config.json, so transformers.js
 * picks the `_bnb4` graphs by default (huggingface/transformers.js packages/transformers/src/models/session.js
 * reads the dtype from there; utils/dtypes.js maps bnb4 to the '_bnb4' suffix).
 */
async function markBnb4(configFile: string): Promise<void> {
  const config = JSON.parse(await fs.readFile(configFile, 'utf8')) as Record<string, unknown>;
  const current = (config['transformers.js_config'] ?? {}) as Record<string, unknown>;
  config['transformers.js_config'] = { ...current, dtype: 'bnb4' };
  await fs.writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Writes `model` as ONNX into `outDir`: for clip model.onnx + text_model.onnx + vision_model.onnx,
 * for llama / opt / gpt2 one decoder model.onnx with its KV cache; plus the side files.
 *
 * @example
 * const { models } = await exportOnnx(model, 'out/clip-onnx', { sourceDir: 'models/clip-shapes-base' });
 */
export async function exportOnnx(model: VisionLanguageModel, outDir: string, options: OnnxExportOptions = {}): Promise<OnnxExportResult> {
  const type = model.modelType;
  if (!SUPPORTED.includes(type)) {
    throw new MmftError('E_UNSUPPORTED', `ONNX export does not handle model_type "${type}" yet; it handles ${SUPPORTED.join(', ')}`, {
      hint: 'see docs/onnx.md for what is exported',
    });
  }
  const bnb4 = options.keep4bit ? keep4bitWeights(model) : undefined;
  prepareForExport(model, { keep4bit: options.keep4bit });
  await fs.mkdir(outDir, { recursive: true });
  const write = {
    opset: options.opset ?? 17,
    externalDataThreshold: options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD,
    producerVersion: options.producerVersion,
    ...(bnb4 ? { extraOpsets: { ...BNB4_OPSETS } } : {}),
  };
  let files: string[];
  let skip = new Set<string>();
  if ((ONNX_MODEL_TYPES.causalLm as readonly string[]).includes(type)) {
    const four = bnb4 ? { fileName: 'model_bnb4.onnx', prepareGraph: (g: OnnxGraph) => useBnb4Linears(g, bnb4) } : {};
    const result = await exportCausalLm(model, outDir, { ...write, ...four });
    files = [...result.files];
    skip = new Set(files.map((f) => path.basename(f))); // it writes its own config.json / generation_config.json / tokenizer
  } else if ((ONNX_MODEL_TYPES.visionLanguage as readonly string[]).includes(type)) {
    const four = bnb4 ? { suffix: '_bnb4', prepareGraph: (g: OnnxGraph, prefix: string) => useBnb4Linears(g, bnb4, prefix) } : {};
    files = [...(await exportVlm(model, weightsOf(model.root), outDir, { ...write, ...four })).files]; // onnx/ subfolder, transformers.js layout
  } else {
    files = (await exportClip(model, weightsOf(model.root), outDir, write)).files;
  }
  const models = files.filter((f) => f.endsWith('.onnx'));
  files.push(...(await copySideFiles(model, outDir, options.sourceDir, skip)));
  if (bnb4) await markBnb4(path.join(outDir, 'config.json'));
  return { files, models };
}
