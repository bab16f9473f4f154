// Handoff contract: write a recipe as a bundle another engine trains (LLaMA-Factory, ms-swift,
// Hugging Face accelerate + Trainer + peft) on many GPUs, as `mmft handoff --to <id>` does. Core
// turns the validated recipe into a neutral plan and the data into chats (core/src/handoff); a
// target provider translates both into its engine's files and launch commands and says what it
// could not express. docs/scaling-out.md.
import type { ProviderBase } from './provider';

/** One recipe option the plan or a target does not carry over, with why (never dropped silently). */
export interface HandoffGap {
  /** Dotted recipe path, e.g. "objective.few_shot" or "train.lr_groups". */
  readonly field: string;
  readonly why: string;
}

/** One recipe option and what it became in the target's files. */
export interface HandoffMapping {
  /** Dotted recipe path ("train.lr"). */
  readonly mmft: string;
  /** The target's key and file ("learning_rate (train.yaml)"). */
  readonly target: string;
  /** Set when the value was converted (units, names); absent for a one-to-one copy. */
  readonly note?: string;
}

/** The recipe as engines see it: what trains, on what model, how (built from the recipe alone, no model is loaded). */
export interface HandoffPlan {
  /** Recipe file (absolute) and name. */
  readonly recipeFile: string;
  readonly name: string;
  readonly seed: number;
  readonly model: {
    /** How the target machines find the base model: `--model-path`, else the recipe's checkpoint folder (absolute). */
    readonly path: string;
    /** The local folder mmft read config.json from (absolute). */
    readonly localPath: string;
    /** config.json model_type ("llava", "llama", "idefics", "blip-2") and architectures[0]. */
    readonly modelType: string;
    readonly architecture?: string;
    /** model.quantization of the recipe (QLoRA): bitsandbytes 4-bit settings. */
    readonly quantization?: { readonly bits: 4; readonly quantType: 'nf4' | 'fp4'; readonly doubleQuant: boolean };
  };
  /** objective.template (mmft's name: llava_v1, llava_plain, vicuna_v1, chatml, plain, chat) and its settings. */
  readonly template: string;
  readonly defaultSystem?: string;
  readonly maxLength: number;
  readonly trainOnPrompt: boolean;
  /** Which parts train (train.freeze / unfreeze and peft.modules_to_save resolved). */
  readonly freeze: { readonly vision: boolean; readonly projector: boolean; readonly language: boolean };
  /** Absent: full fine-tuning of the unfrozen parts. */
  readonly peft?: {
    readonly method: string;
    readonly r: number;
    readonly alpha: number;
    readonly dropout: number;
    /** "all-linear" or module names / a regex string, as the recipe gives them (PEFT's meaning). */
    readonly targetModules: string | readonly string[];
    readonly excludeModules?: string | readonly string[];
    readonly modulesToSave: readonly string[];
    readonly useRslora: boolean;
  };
  readonly train: {
    readonly lr: number;
    /** Per-group peak rates: params is mmft's group name ("projector", "vision", "language", or a regex). */
    readonly lrGroups: readonly { readonly params: string; readonly lr: number }[];
    readonly weightDecay: number;
    readonly betas: readonly [number, number];
    readonly eps: number;
    readonly warmupSteps: number;
    /** "linear", "cosine" or "constant" (HF lr_scheduler_type names). */
    readonly schedule: string;
    readonly maxSteps?: number;
    readonly epochs?: number;
    /** Examples per optimizer step on one process (mmft trains on one): batch_size × grad_accum_steps. */
    readonly batchSize: number;
    readonly gradAccum: number;
    readonly maxGradNorm: number;
    readonly gradientCheckpointing: boolean;
    readonly saveEvery?: number;
    readonly evalEvery?: number;
    readonly logEvery: number;
  };
  /** Recipe options the plan itself cannot carry (few_shot, augmentation...). */
  readonly gaps: readonly HandoffGap[];
}

/** How the run is spread, from `mmft handoff` flags. */
export interface HandoffLaunch {
  /** GPUs per node and nodes: world size = gpus × nodes. */
  readonly gpus: number;
  readonly nodes: number;
  /** Sharding: DeepSpeed ZeRO-2/3, FSDP full shard, or plain DDP. */
  readonly strategy: 'zero2' | 'zero3' | 'fsdp' | 'ddp';
  readonly precision: 'bf16' | 'fp16' | 'fp32';
  /** Where the bundle's trained output goes, relative to the bundle ("output"). */
  readonly outputDir: string;
}

/** The data as written by core into the bundle: chats with bundle-relative image paths. */
export interface HandoffData {
  /** Bundle-relative JSONL files of `{"messages":[{role,content}], "images":[path...]}` rows. */
  readonly train: string;
  readonly eval?: string;
  readonly trainRows: number;
  readonly evalRows: number;
  /** Bundle-relative folder holding every image the rows name. */
  readonly imagesDir: string;
}

/** What a target wrote. */
export interface HandoffResult {
  /** Bundle-relative paths of the files it wrote. */
  readonly files: readonly string[];
  /** Shell lines that start training from the bundle folder; `$NODE_RANK`, `$MASTER_ADDR` where nodes > 1. */
  readonly commands: readonly string[];
  readonly mappings: readonly HandoffMapping[];
  /** Plan fields this target cannot express (beyond plan.gaps). */
  readonly gaps: readonly HandoffGap[];
  /** Where the trained adapter or checkpoint lands, bundle-relative (`mmft import` reads it). */
  readonly output: string;
}

export interface HandoffTargetProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'handoff';
  /** Engine name for messages and the bundle README ("LLaMA-Factory"). */
  readonly engine: string;
  /** Writes the target's files into `bundleDir` (the data is already there). */
  write(plan: HandoffPlan, data: HandoffData, launch: HandoffLaunch, bundleDir: string, config: Config): Promise<HandoffResult>;
}

declare module './kinds' {
  interface ProviderKindMap {
    handoff: HandoffTargetProvider;
  }
}
