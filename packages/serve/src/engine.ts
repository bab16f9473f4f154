// What a server needs of a model runtime: chat (text pieces, streamed) or embeddings. The tfjs
// engine (tfjs-engine.ts) is the first; an onnxruntime-node engine can implement the same interface
// without the server changing (docs/serving.md, "Engines").

/** One chat turn as the engine reads it: text, and the images of an `image_url` part (decoded bytes, in order). */
export interface ChatTurn {
  readonly role: 'system' | 'user' | 'assistant';
  /** The turn's text parts joined; where an image stood, `imageAt` says (LLaVA places `<image>` there). */
  readonly text: string;
  readonly images: readonly Uint8Array[];
  /** Character offsets into `text` where each image part stood (same length as `images`). */
  readonly imageAt: readonly number[];
}

/** Why a reply ended, in OpenAI's words. */
export type FinishReason = 'stop' | 'length' | 'content_filter';

/** Token counts of one reply, for OpenAI's `usage` and the generated-tokens metric. */
export interface ChatUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** 'length' when the reply stopped at maxTokens, 'stop' at an end-of-sequence token. */
  readonly finishReason: 'stop' | 'length';
}

/** A chat request after the server has validated and decoded it. */
export interface ChatRequest {
  readonly messages: readonly ChatTurn[];
  /** New tokens at most (already capped by the server's maxTokensCap). */
  readonly maxTokens: number;
  /** Absent: the model's generation_config.json decides (greedy unless it sets do_sample); 0: greedy; > 0: sampling. */
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  /** Called once when the reply ends, also when the caller stops it early (stop sequence, filter, abort). */
  readonly onUsage?: (usage: ChatUsage) => void;
}

/** One embedding input: a text, or an image's encoded bytes. */
export type EmbeddingInput = { readonly text: string } | { readonly image: Uint8Array };

/**
 * A model runtime behind the routes. `chat` yields text pieces as they are decoded and stops early
 * when `signal` aborts (timeout, client gone, stop string found); `embed` returns one L2-normalised
 * vector per input, in order.
 *
 * @example
 * const served: ServedModel = { name: 'shapes', version: 'v1', engine: await TfjsEngine.load('models/llava-shapes-base') };
 */
export interface InferenceEngine {
  readonly kind: 'chat' | 'embeddings';
  /** The model family ('language-model', 'vision-to-llm', 'dual-encoder'), shown by GET /v1/models. */
  readonly family: string;
  /** Whether chat accepts image parts (a vision-to-LLM model). */
  readonly acceptsImages?: boolean;
  chat?(request: ChatRequest, signal: AbortSignal): AsyncIterable<string>;
  embed?(inputs: readonly EmbeddingInput[]): Promise<Float32Array[]>;
  /** Tokens of a text as the model counts them (embeddings usage); absent: usage counts 0. */
  countTokens?(text: string): number;
  close(): Promise<void>;
}

/** A model the server answers for: `name` is OpenAI's `model` field, `version` its served version (v1, v2...). */
export interface ServedModel {
  readonly name: string;
  readonly version: string;
  readonly engine: InferenceEngine;
}
