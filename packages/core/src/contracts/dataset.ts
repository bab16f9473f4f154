// Dataset contract: typed streaming examples for the five task formats. Readers stream (bounded
// memory), shuffle deterministically by seed, shard by worker/rank and can resume at a position.
import type { ProviderBase } from './provider';

export type TaskKind = 'caption' | 'vqa' | 'retrieval' | 'instruction' | 'text' | 'interleaved';

/** Where an example came from, so every error and reject can name file and line. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** An image reference: a resolved file path, or encoded bytes for in-memory datasets. */
export type ImageRef =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly format: 'png' | 'jpeg' | 'webp' | 'svg'; readonly key: string };

interface TextOnlyBase {
  readonly id: string;
  readonly source?: SourceLocation;
  /** BCP-47-ish language tag of the text fields ("en", "zh"). */
  readonly lang?: string;
}

/** The base of the image tasks (caption, VQA, retrieval): every example has its image. */
interface ExampleBase extends TextOnlyBase {
  readonly image: ImageRef;
}

export interface CaptionExample extends ExampleBase {
  readonly task: 'caption';
  readonly captions: readonly string[];
}

export interface VqaExample extends ExampleBase {
  readonly task: 'vqa';
  readonly question: string;
  readonly answer: string;
  /** The 10 human answers of VQA v2, when present. */
  readonly answers?: readonly string[];
  readonly answerType?: string;
  readonly questionType?: string;
}

export interface RetrievalExample extends ExampleBase {
  readonly task: 'retrieval';
  /** All positive texts of the image (COCO layout: 5). */
  readonly texts: readonly string[];
  /** Hard negatives (same objects, swapped attributes). */
  readonly negativeTexts?: readonly string[];
}

export interface ConversationTurn {
  readonly role: 'user' | 'assistant' | 'system';
  readonly content: string;
}

export interface InstructionExample extends TextOnlyBase {
  readonly task: 'instruction';
  /**
   * The conversation's image; absent for text-only conversations (LLaVA's instruction mixture and
   * sharegpt data hold both kinds).
   */
  readonly image?: ImageRef;
  /**
   * Every image of the conversation in `<image>` order, when it has more than one (OpenAI messages
   * with several image parts, sharegpt `images` lists); `image` is then the first. Absent with one
   * image or none: read images through `imagesOf`.
   */
  readonly images?: readonly ImageRef[];
  /** LLaVA's conversations, normalised: "human" → user, "gpt" → assistant; `<image>` kept in place. */
  readonly turns: readonly ConversationTurn[];
}

/** Plain text for language-model training (`{"text": ...}` lines, as HF's run_clm reads them); no image. */
export interface TextExample extends TextOnlyBase {
  readonly task: 'text';
  readonly text: string;
  readonly image?: undefined;
}

/** One piece of an interleaved document, in reading order. */
export type InterleavedSegment =
  { readonly image: ImageRef; readonly text?: undefined } | { readonly text: string; readonly image?: undefined };

/**
 * Images and texts in any order, as Flamingo and IDEFICS pretrain on web documents (MMC4, OBELICS):
 * `{"segments": [{"image": ...}, {"text": ...}, ...]}`. Every text is a training target; each
 * image stands where it is (a `<image>` token for IDEFICS, a feature span for LLaVA). `image` is
 * absent: read the images through `imagesOf`.
 */
export interface InterleavedExample extends TextOnlyBase {
  readonly task: 'interleaved';
  readonly segments: readonly InterleavedSegment[];
  readonly image?: undefined;
}

export type Example = CaptionExample | VqaExample | RetrievalExample | InstructionExample | TextExample | InterleavedExample;

/**
 * Every image of an example in reading order: one for caption, VQA and retrieval, the
 * conversation's (`images`, else `image`) for instruction, the image segments of an interleaved
 * document, none for text.
 *
 * @example
 * imagesOf({ task: 'interleaved', id: 'e', segments: [{ image: a }, { text: 'x' }, { image: b }] }); // [a, b]
 */
export function imagesOf(example: Example): readonly ImageRef[] {
  switch (example.task) {
    case 'caption':
    case 'vqa':
    case 'retrieval':
      return [example.image];
    case 'instruction':
      return example.images ?? (example.image ? [example.image] : []);
    case 'interleaved':
      return example.segments.flatMap((s) => (s.image ? [s.image] : []));
    case 'text':
      return [];
  }
}
export type ExampleOf<T extends TaskKind> = Extract<Example, { task: T }>;

/** How to iterate: the same options always give the same order (docs/data.md, "Streaming, shuffling, sharding"; checked by describeDataset). */
export interface IterateOptions {
  readonly seed?: number;
  readonly shuffle?: boolean;
  /** Shard `index` of `count` (data-parallel workers or ranks). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Skip this many examples of the (shuffled, sharded) order: resume support. */
  readonly startAt?: number;
  /** Which epoch: part of the shuffle seed so epochs differ but are reproducible. */
  readonly epoch?: number;
}

/** A stream of examples of one task (or, for a mixture, of several: see `tasks`). */
export interface Dataset<E extends Example = Example> {
  /** The examples' task; for a mixture of tasks, its first source's. */
  readonly task: E['task'];
  /**
   * Every task the examples have, when there is more than one (a `mix` of caption, VQA and
   * conversation sources); absent means every example has `task`. Objectives that handle one
   * task per split check it.
   */
  readonly tasks?: readonly TaskKind[];
  /** Number of examples when known without reading everything. */
  readonly size?: number;
  iterate(options?: IterateOptions): AsyncIterable<E>;
}

/** Context handed to providers: where relative paths resolve from. */
export interface DatasetContext {
  readonly baseDir: string;
  /** The recipe path of the section being opened (`data.eval`), for messages; absent outside a recipe. */
  readonly where?: string;
  /**
   * Open another recipe section as a dataset, as the recipe's own `data.*` sections are opened: its
   * `type` picks the dataset provider, the rest is checked by that provider's schema, relative paths
   * resolve from `baseDir`, and the opened dataset gets this context with `where` set. `where` names the section
   * in messages (`data.eval.sources[1]`). Composite datasets (the `mix` provider) build their parts
   * with it; `datasetContext()` (packages/core/src/recipe/dataset-context.ts) makes a context that has it.
   */
  open?(section: Record<string, unknown> & { type: string }, where: string): Promise<Dataset>;
}

export interface DatasetProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'dataset';
  readonly tasks: readonly TaskKind[];
  open(config: Config, context: DatasetContext): Promise<Dataset>;
}

declare module './kinds' {
  interface ProviderKindMap {
    dataset: DatasetProvider;
  }
}
