// The metadata of a model card (./card.ts): its input shape, the YAML front matter in ModelCardData
// key order, reading it back from a card, and the pipeline tag of an architecture. Key names follow
// huggingface_hub src/huggingface_hub/repocard_data.py, as ./card.ts says.
import { parse } from 'yaml';
import { MmftError } from '../errors';
import type { ProvenanceInput, ProvenanceStep } from './provenance';

/** One `model-index` result: HF's EvalResult fields grouped as eval_results_to_model_index writes them. */
export interface CardEvalResult {
  readonly task: { readonly type: string; readonly name?: string };
  readonly dataset: { readonly name: string; readonly type: string; readonly split?: string };
  readonly metrics: ReadonlyArray<{ readonly type: string; readonly value: number; readonly name?: string }>;
}

export interface ModelCardInput {
  /** Name of the model in the heading and in `model-index`. */
  readonly modelName: string;
  readonly baseModel?: string;
  readonly license?: string;
  /** Why no licence is stated (body only). */
  readonly licenseNote?: string;
  readonly datasets?: readonly string[];
  readonly language?: readonly string[];
  readonly tags: readonly string[];
  readonly pipelineTag?: string;
  readonly evalResults?: readonly CardEvalResult[];
  /** One-paragraph summary under the heading. */
  readonly summary?: string;
  /** Base chain, newest first: "base → fine-tune → this". */
  readonly lineage?: readonly string[];
  readonly data?: readonly ProvenanceInput[];
  readonly training?: { readonly steps: number; readonly samples: number; readonly seconds: number; readonly totalSteps?: number };
  readonly metrics?: { readonly before?: Readonly<Record<string, number>>; readonly after?: Readonly<Record<string, number>> };
  readonly recipe?: unknown;
  readonly environment?: Readonly<Record<string, unknown>>;
  readonly steps?: readonly ProvenanceStep[];
  /** Text of "Intended uses & limitations" to keep (from the previous card). */
  readonly intendedUses?: string;
  readonly warnings?: readonly string[];
}

/** The card's YAML metadata, keys in ModelCardData order, absent values left out (as its _remove_none does). */
export function cardMetadata(input: ModelCardInput): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (input.baseModel) data.base_model = input.baseModel;
  data.library_name = 'mmft';
  if (input.license) data.license = input.license;
  if (input.datasets && input.datasets.length > 0) data.datasets = [...input.datasets];
  if (input.language && input.language.length > 0) data.language = [...input.language];
  data.tags = [...new Set(input.tags)];
  if (input.pipelineTag) data.pipeline_tag = input.pipelineTag;
  if (input.evalResults && input.evalResults.length > 0) {
    data['model-index'] = [
      {
        name: input.modelName,
        results: input.evalResults.map((r) => ({
          task: r.task.name ? { type: r.task.type, name: r.task.name } : { type: r.task.type },
          dataset: { name: r.dataset.name, type: r.dataset.type, ...(r.dataset.split ? { split: r.dataset.split } : {}) },
          metrics: r.metrics.map((m) => ({ type: m.type, value: m.value, ...(m.name ? { name: m.name } : {}) })),
        })),
      },
    ];
  }
  return data;
}

/**
 * Split a card into its YAML metadata and body (huggingface_hub repocard.py reads the same
 * `---` block at the very start). A card without metadata has `data: {}`.
 */
export function parseModelCard(text: string): { data: Record<string, unknown>; body: string } {
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const match = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(normalised);
  if (!match) return { data: {}, body: normalised };
  let data: unknown;
  try {
    data = parse(match[1]!);
  } catch (cause) {
    throw new MmftError('E_INPUT', `the model card's YAML metadata does not parse: ${(cause as Error).message}`, { cause });
  }
  if (data !== null && (typeof data !== 'object' || Array.isArray(data))) {
    throw new MmftError('E_INPUT', "the model card's YAML metadata is not a mapping of keys to values");
  }
  return { data: (data ?? {}) as Record<string, unknown>, body: normalised.slice(match[0].length) };
}

// HF pipeline tags (huggingface.js packages/tasks pipelines) by the architecture's job.
const PIPELINE_BY_ARCH: Readonly<Record<string, string>> = {
  clip: 'zero-shot-image-classification',
  blip2: 'image-to-text',
  'blip-2': 'image-to-text',
  llava: 'image-to-text',
  gpt2: 'text-generation',
  opt: 'text-generation',
  llama: 'text-generation',
};
export const TASK_NAMES: Readonly<Record<string, string>> = {
  'zero-shot-image-classification': 'Zero-Shot Image Classification',
  'feature-extraction': 'Feature Extraction',
  'image-to-text': 'Image-to-Text',
  'text-generation': 'Text Generation',
};

/** The pipeline tag of an architecture (`feature-extraction` for a CLIP trained as a feature extractor). */
export function pipelineTagOf(arch: string | undefined, strategy?: string): string | undefined {
  if (arch === 'clip' && strategy === 'feature-based') return 'feature-extraction';
  return arch ? PIPELINE_BY_ARCH[arch] : undefined;
}
