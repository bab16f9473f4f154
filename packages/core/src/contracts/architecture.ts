// Architecture contract: builds a model from a config or a Hugging Face checkpoint folder and
// exposes its named module tree. Architecture plugins contribute `model_type` → factory rows to
// one table (docs/conventions.md §8), as transformers.js's models/registry.js does.
import type { Module } from '../nn/module';
import type {
  GenerationOptions,
  GenerationResult,
  ImageProcessing,
  ModelInputs,
  ModelOutputs,
  ModelProcessor,
  TextTokenizer,
} from './model';
import type { ProviderBase } from './provider';

/**
 * Dual encoders (CLIP) embed both modalities; bridges (BLIP-2, LLaVA) feed vision into an LLM;
 * query transformers (BLIP-2's stage-1 Q-Former) match and ground text on learned image queries.
 */
export type ArchitectureFamily = 'dual-encoder' | 'vision-to-llm' | 'language-model' | 'vision-encoder' | 'query-transformer';

/**
 * A loaded model. `root` is the module tree: its parameter names are the Hugging Face state-dict
 * names, so checkpoints load by name and PEFT targets modules such as `q_proj`.
 */
export interface VisionLanguageModel {
  readonly modelType: string;
  readonly family: ArchitectureFamily;
  readonly root: Module;
  /** The parsed config.json (with defaults filled in), written back on save. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Image preprocessing, tokenizer, chat template and towers (transformers' AutoProcessor). */
  readonly processor: ModelProcessor;
  /** The processor's tokenizer (`processor.tokenizer`), kept for existing callers. */
  readonly tokenizer?: TextTokenizer;
  /** The processor's image preprocessing (`processor.imageProcessing`), kept for existing callers. */
  readonly imageProcessing?: ImageProcessing;
  forward(inputs: ModelInputs): ModelOutputs;
  /** Text generation for captioning/VQA/dialogue models; absent on dual encoders. */
  generate?(inputs: ModelInputs, options: GenerationOptions): Promise<GenerationResult>;
  /**
   * Write the Hugging Face layout (config.json, model.safetensors, tokenizer files). A non-empty
   * `dir` that is not a model folder mmft wrote is refused unless `options.force`.
   */
  save(dir: string, options?: SaveOptions): Promise<void>;
  /**
   * A state-dict key written under another key layout of this architecture, renamed to this tree's
   * name (LLaVA: transformers ≥ 4.52's `model.language_model.*` → `language_model.model.*`); other
   * keys come back unchanged. Loading a PEFT adapter saved from a model in that layout uses it
   * (`loadAdapter(dir, root, providers, { renameKey })`).
   */
  checkpointKeyName?(key: string): string;
  dispose(): void;
}

/** Options of `VisionLanguageModel.save`. */
export interface SaveOptions {
  /** Replace a non-empty folder that is not a model folder mmft wrote (checkOutputFolder). */
  readonly force?: boolean;
}

/** Options when loading a checkpoint folder. */
export interface LoadOptions {
  /** List tensors the model does not know and ignore them instead of failing. */
  readonly ignoreUnexpected?: boolean;
}

/**
 * What an architecture may build other architectures with: a bridge (LLaVA, BLIP-2) builds its
 * vision tower from `vision_config` and its language model from `text_config` through the plugins
 * that provide those `model_type`s, as transformers' AutoModel.from_config(config.vision_config)
 * does, without importing them (plugins never import each other). An architecture's recipe section
 * takes Hugging Face config fields under `config:`, so a bridge calls
 * `context.resolveModelType(sub.model_type).fromConfig({ config: sub }, context)`.
 */
export interface ArchitectureContext {
  /** The provider of a config.json `model_type`; an unknown type is an error listing the known ones. */
  resolveModelType(modelType: string): ArchitectureProvider;
}

export interface ArchitectureProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'architecture';
  readonly family: ArchitectureFamily;
  /** config.json `model_type` values this provider builds ("clip", "blip-2", "llava", "opt"). */
  readonly modelTypes: readonly string[];
  /** A freshly initialised model from a (partial) HF config, defaults filled in as HF does. */
  fromConfig(config: Config, context?: ArchitectureContext): Promise<VisionLanguageModel>;
  /** Load a checkpoint folder: config.json + model.safetensors (or sharded) + tokenizer.json. */
  fromPretrained(dir: string, options?: LoadOptions, context?: ArchitectureContext): Promise<VisionLanguageModel>;
}

declare module './kinds' {
  interface ProviderKindMap {
    architecture: ArchitectureProvider;
  }
}
