// The shapes batch `mmft generate` (commands/generate-batch.ts) and its queue shard
// (queue/generate-shard.ts) share: input and output rows, a shard's spec, the model they run.
import type { GenerationOptions, GenerationResult, ModelInputs, ModelProcessor } from '@mmft/core';

/** A chat turn of an input row. */
export interface BatchMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** One checked input row. */
export interface BatchRow {
  readonly id: string | number;
  readonly prompt?: string;
  readonly messages?: readonly BatchMessage[];
  /** Absolute paths (written relative to the input file's folder, or absolute). */
  readonly images: readonly string[];
  readonly line: number;
}

/** One output row: the id, what was asked, and the text (`texts` too with several returned sequences). */
export interface BatchOutputRow {
  readonly id: string | number;
  readonly prompt?: string;
  readonly messages?: readonly BatchMessage[];
  readonly text: string;
  readonly texts?: readonly string[];
}

/** What a shard needs; paths absolute, so a worker on another machine reads the same files (a shared filesystem). */
export interface GenerateBatchSpec {
  readonly modelDir: string;
  readonly input: string;
  readonly adapter?: string;
  readonly loadIn4bit?: boolean;
  readonly plugin: readonly string[];
  readonly batchSize: number;
  readonly chat?: boolean;
  readonly system?: string;
  /** Decoding options of the command line (unset ones come from generation_config.json). */
  readonly options: GenerationOptions;
  /** The run's seed: batch k samples with deriveSeed(seed, k). */
  readonly seed: number;
}

/** A loaded model `mmft generate` runs (generate.ts loads it). */
export interface BatchModel {
  readonly modelType: string;
  readonly family: string;
  readonly processor: ModelProcessor;
  generate(inputs: ModelInputs, options?: GenerationOptions): Promise<GenerationResult>;
}
