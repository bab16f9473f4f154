// An InferenceEngine over a folder written by `mmft export onnx` (docs/onnx.md), run by
// onnxruntime-node on the CPU, with no architecture plugin: everything it needs is in the folder.
// - causal LM: `model.onnx` (or `model_bnb4.onnx`), decoded one token per step through the KV cache
//   by the exporter's greedyDecodeOnnx (packages/plugins/exporter-onnx/src/causal-lm/decode.ts);
// - LLaVA / BLIP-2: `onnx/vision_encoder`, `embed_tokens`, `decoder_model_merged` through the
//   exporter's generateVlmOnnx (src/vlm/decode.ts), the transformers.js layout;
// - CLIP: `text_model.onnx` / `vision_model.onnx`, the two halves transformers.js loads as
//   CLIPTextModelWithProjection / CLIPVisionModelWithProjection, whose embeds are not normalised
//   (transformers src/transformers/models/clip/modeling_clip.py normalises only in CLIPModel.forward),
//   so they are L2-normalised here as TfjsEngine's text_embeds / image_embeds are.
// Prompts are built as TfjsEngine builds them (tfjs-engine.ts), from the folder's tokenizer files and
// preprocessor_config.json; decoding settings are resolved by core's resolveGenerationOptions from
// generation_config.json and the request, and sampling uses core's logits processors and seeded
// random stream, so a request decodes the same ids as tfjs's generate() given the same logits.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { imagePromptIds, MmftError, withImageMark, type ImageTokens, type TextTokenizer } from '@mmft/core';
import { logitsProcessors, RowTextStreamer, resolveGenerationOptions, SeededRandom, sampleIndex, softmax } from '@mmft/core/generation';
import { readHfFolder, tokenizerFromFiles, type HfFolder } from '@mmft/core/hf';
import { generateVlmOnnx, greedyDecodeOnnx } from '@mmft/exporter-onnx';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import type * as Ort from 'onnxruntime-node';
import type { ChatRequest, ChatTurn, EmbeddingInput, InferenceEngine } from './engine';

// The native runtime is loaded on first use, so importing @mmft/serve for a tfjs model does not load it.
let runtime: typeof Ort | undefined;
const ort = (): typeof Ort => (runtime ??= require('onnxruntime-node') as typeof Ort);

/** Which exported layout a folder holds. */
export type OnnxLayout = 'causal-lm' | 'vision-to-llm' | 'clip';

/** An export found in a folder: its layout and the graph suffix ('' or '_bnb4', transformers.js's bnb4 dtype). */
export interface OnnxExport {
  readonly layout: OnnxLayout;
  readonly suffix: '' | '_bnb4';
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/**
 * The ONNX export in `dir`, or undefined when there is none (a tfjs checkpoint folder). The float32
 * graphs win over `_bnb4` ones when both are there.
 *
 * @example
 * await detectOnnxExport('out/llama-onnx'); // { layout: 'causal-lm', suffix: '' }
 */
export async function detectOnnxExport(dir: string): Promise<OnnxExport | undefined> {
  if ((await exists(path.join(dir, 'text_model.onnx'))) && (await exists(path.join(dir, 'vision_model.onnx'))))
    return { layout: 'clip', suffix: '' };
  for (const suffix of ['', '_bnb4'] as const) {
    if (await exists(path.join(dir, 'onnx', `decoder_model_merged${suffix}.onnx`))) return { layout: 'vision-to-llm', suffix };
  }
  for (const suffix of ['', '_bnb4'] as const)
    if (await exists(path.join(dir, `model${suffix}.onnx`))) return { layout: 'causal-lm', suffix };
  return undefined;
}

interface ChatTokenizer extends TextTokenizer {
  readonly chatTemplate?: string;
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

type Json = Record<string, unknown>;

/** A side of preprocessor_config.json's size / crop_size: an int, {shortest_edge}, or a square {height, width}. */
function side(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object') {
    const v = value as { shortest_edge?: unknown; height?: unknown };
    if (typeof v.shortest_edge === 'number') return v.shortest_edge;
    if (typeof v.height === 'number') return v.height;
  }
  return undefined;
}

// transformers/utils/constants.py OPENAI_CLIP_MEAN / OPENAI_CLIP_STD: the defaults of the CLIP and BLIP image processors.
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/**
 * The image span a vision-to-LLM export's prompt needs, from config.json as the architectures compute it:
 * LLaVA, one `<image>` id per patch (+1 for the class token under the 'full' strategy) in place of the mark
 * (transformers models/llava/processing_llava.py); BLIP-2 with image_token_index, num_query_tokens ids in
 * front; legacy BLIP-2 (image_token_index null), none (its decoder prepends the queries).
 */
export function vlmImageTokens(config: Json, source: string): ImageTokens | undefined {
  const tokenId = config.image_token_index ?? config.image_token_id;
  if (config.model_type === 'llava') {
    const vision = (config.vision_config ?? {}) as Json;
    const imageSize = vision.image_size;
    const patch = vision.patch_size;
    if (typeof tokenId !== 'number' || typeof imageSize !== 'number' || typeof patch !== 'number') {
      throw new MmftError('E_CONFIG', `${source}: a LLaVA export needs image_token_index and vision_config.image_size / patch_size`, {
        hint: 'export the model again with mmft export onnx, which copies config.json',
      });
    }
    const patches = (imageSize / patch) ** 2;
    return { tokenId, count: patches + (config.vision_feature_select_strategy === 'full' ? 1 : 0), placement: 'placeholder' };
  }
  if (typeof tokenId !== 'number') return undefined;
  return { tokenId, count: (config.num_query_tokens as number | undefined) ?? 32, placement: 'prefix' };
}

/** Scales a vector to unit length (a zero vector stays zero). */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm === 0 ? v : v.map((x) => x / norm);
}

/**
 * @example
 * const engine = await OnnxEngine.load('out/llama-onnx');
 * for await (const piece of engine.chat({ messages, maxTokens: 20 }, signal)) process.stdout.write(piece);
 */
export class OnnxEngine implements InferenceEngine {
  readonly kind: 'chat' | 'embeddings';
  readonly family: string;
  readonly acceptsImages: boolean;
  private readonly imageTokens: ImageTokens | undefined;

  private constructor(
    private readonly dir: string,
    readonly layout: OnnxExport,
    private readonly folder: HfFolder,
    private readonly tokenizer: ChatTokenizer | undefined,
    private readonly sessions: Record<string, Ort.InferenceSession>,
  ) {
    this.kind = layout.layout === 'clip' ? 'embeddings' : 'chat';
    this.family = layout.layout === 'clip' ? 'dual-encoder' : layout.layout === 'causal-lm' ? 'language-model' : 'vision-to-llm';
    this.acceptsImages = layout.layout === 'vision-to-llm';
    this.imageTokens = this.acceptsImages ? vlmImageTokens(folder.config, path.join(dir, 'config.json')) : undefined;
  }

  /** Opens an export folder (detectOnnxExport decides the layout); E_INPUT when it holds none. */
  static async load(dir: string): Promise<OnnxEngine> {
    const layout = await detectOnnxExport(dir);
    if (!layout) {
      throw new MmftError(
        'E_INPUT',
        `${dir} holds no ONNX export (model.onnx, onnx/decoder_model_merged.onnx or text_model.onnx + vision_model.onnx)`,
        {
          hint: 'write one with `mmft export onnx <model-dir> --out DIR`, or serve the checkpoint folder with --engine tfjs',
        },
      );
    }
    const folder = await readHfFolder(dir);
    const text = ((folder.config.text_config as Json | undefined)?.max_position_embeddings ?? folder.config.max_position_embeddings) as
      number | undefined;
    const tokenizer = tokenizerFromFiles(folder.tokenizerFiles, { dir, ...(typeof text === 'number' ? { maxPositions: text } : {}) }) as
      ChatTokenizer | undefined;
    const sessions: Record<string, Ort.InferenceSession> = {};
    const open = async (name: string) =>
      (sessions[name] = await ort().InferenceSession.create(path.join(dir, name), { executionProviders: ['cpu'] }));
    try {
      if (layout.layout === 'clip') {
        await open('text_model.onnx');
        await open('vision_model.onnx');
      } else if (layout.layout === 'causal-lm') {
        await open(`model${layout.suffix}.onnx`);
      }
      // vision-to-llm: generateVlmOnnx opens its three graphs per request (its interface takes the folder).
      return new OnnxEngine(dir, layout, folder, tokenizer, sessions);
    } catch (error) {
      for (const s of Object.values(sessions)) await s.release();
      throw error;
    }
  }

  countTokens(text: string): number {
    return this.text().encode([text], { truncation: false }).inputIds[0]!.length;
  }

  async *chat(request: ChatRequest, signal: AbortSignal): AsyncIterable<string> {
    if (this.kind !== 'chat') throw new MmftError('E_UNSUPPORTED', `${this.dir}: a ${this.family} export does not chat`);
    let promptTokens = 0;
    let completionTokens = 0;
    // Pieces decoded by the step callback wait here until the consumer takes them.
    const pieces: string[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let stopped = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    try {
      const { ids, pixels } = await this.chatInputs(request.messages);
      promptTokens = ids.length;
      const settings = resolveGenerationOptions(this.folder.generationConfig, {
        maxNewTokens: request.maxTokens,
        ...(request.temperature === undefined
          ? {}
          : request.temperature === 0
            ? { doSample: false }
            : { doSample: true, temperature: request.temperature }),
        ...(request.topP === undefined ? {} : { topP: request.topP }),
        ...(request.seed === undefined ? {} : { seed: request.seed }),
      });
      const processors = logitsProcessors(settings, { maxLength: Number.MAX_SAFE_INTEGER, minLength: 0 });
      const random = settings.doSample ? new SeededRandom(settings.seed) : undefined;
      // Greedy stays the helpers' own argmax (float32 logits, as tfjs's); sampling goes through core's warpers.
      const pick =
        random || processors.length > 0
          ? (logits: Float32Array, _row: number, history: readonly number[]) => {
              const scores = Float64Array.from(logits);
              for (const p of processors) p(scores, history);
              if (random) return sampleIndex(softmax(scores), random);
              let best = 0;
              for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
              return best;
            }
          : undefined;
      const streamer = new RowTextStreamer(this.text());
      const eos = [...settings.eosTokenIds];
      const maxNewTokens = settings.maxNewTokens ?? request.maxTokens;
      let ended = false;
      const onStep = (tokens: readonly number[], step: number) => {
        if (signal.aborted || stopped) {
          stopped = true;
          return false;
        }
        const id = tokens[0]!;
        if (id >= 0) {
          completionTokens += 1;
          // The last token's piece carries the rest of the text with it, as core's generateStream
          // sends a row's final chunk (generation/generate.ts), so both engines split replies alike.
          ended = eos.includes(id) || step + 1 >= maxNewTokens;
          const piece = streamer.put(id) + (ended ? streamer.end() : '');
          if (piece !== '') pieces.push(piece);
          notify();
        }
        return true;
      };
      const options = {
        ...(pick ? { pick } : {}),
        onStep,
        ...(settings.padTokenId === undefined ? {} : { padTokenId: settings.padTokenId }),
      };
      const decoding = (
        pixels
          ? generateVlmOnnx(this.dir, pixels, [ids], maxNewTokens, { ...options, eosTokenId: eos, suffix: this.layout.suffix })
          : greedyDecodeOnnx(this.sessions[`model${this.layout.suffix}.onnx`]!, [ids], maxNewTokens, eos, options)
      ).then(
        () => {
          if (!stopped && !ended) {
            const rest = streamer.end();
            if (rest !== '') pieces.push(rest);
          }
          finished = true;
          notify();
        },
        (error: unknown) => {
          failure = error;
          finished = true;
          notify();
        },
      );
      for (;;) {
        while (pieces.length > 0) {
          if (signal.aborted) {
            stopped = true;
            break;
          }
          yield pieces.shift()!;
        }
        if (stopped || finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      // Abandoned (stop string, filter, client gone): the next step callback ends the decoding.
      stopped = true;
      await decoding;
      if (failure !== undefined) throw failure;
    } finally {
      stopped = true;
      request.onUsage?.({ promptTokens, completionTokens, finishReason: completionTokens >= request.maxTokens ? 'length' : 'stop' });
    }
  }

  async embed(inputs: readonly EmbeddingInput[]): Promise<Float32Array[]> {
    if (this.kind !== 'embeddings') throw new MmftError('E_UNSUPPORTED', `${this.dir}: a ${this.family} export has no embeddings`);
    const out: Float32Array[] = [];
    const T = ort().Tensor;
    for (const input of inputs) {
      if ('text' in input) {
        const maxLength = ((this.folder.config.text_config as Json | undefined)?.max_position_embeddings as number | undefined) ?? 77;
        const { inputIds, attentionMask } = this.text().encode([input.text], { truncation: true, maxLength });
        const n = inputIds[0]!.length;
        const result = await this.sessions['text_model.onnx']!.run({
          input_ids: new T('int64', BigInt64Array.from(inputIds[0]!, BigInt), [1, n]),
          attention_mask: new T('int64', BigInt64Array.from(attentionMask[0]!, BigInt), [1, n]),
        });
        out.push(l2Normalize(Float32Array.from(result.text_embeds!.data as Float32Array)));
      } else {
        const pixels = await this.pixels(input.image);
        const result = await this.sessions['vision_model.onnx']!.run({ pixel_values: new T('float32', pixels.data, [...pixels.dims]) });
        out.push(l2Normalize(Float32Array.from(result.image_embeds!.data as Float32Array)));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.sessions)) await s.release();
  }

  private text(): ChatTokenizer {
    if (!this.tokenizer) throw new MmftError('E_CHECKPOINT', `${this.dir}: the export has no tokenizer.json, so text cannot be encoded`);
    return this.tokenizer;
  }

  /** [1, 3, S, S] pixels as preprocessor_config.json says (CLIP: resize the shortest edge, center-crop; BLIP: a square, no crop). */
  private async pixels(bytes: Uint8Array): Promise<{ data: Float32Array; dims: number[] }> {
    const raw = this.folder.preprocessor;
    if (!raw)
      throw new MmftError('E_CHECKPOINT', `${path.join(this.dir, 'preprocessor_config.json')} is missing, and the model reads images`);
    const vision = (this.folder.config.vision_config ?? {}) as Json;
    const size = side(raw.size) ?? (vision.image_size as number);
    const options = preprocessOptionsSchema.parse({
      size,
      cropSize: side(raw.crop_size) ?? size,
      mean: (raw.image_mean as number[] | undefined) ?? CLIP_MEAN,
      std: (raw.image_std as number[] | undefined) ?? CLIP_STD,
    });
    const image = await preprocessResolved(bytes, options);
    const [, h, w] = image.shape;
    return { data: image.data, dims: [1, 3, h, w] };
  }

  /** The prompt's ids (and pixels), built as TfjsEngine.chatInputs builds them. */
  private async chatInputs(turns: readonly ChatTurn[]): Promise<{ ids: number[]; pixels?: { data: Float32Array; dims: number[] } }> {
    const images = turns.flatMap((t) => t.images);
    if (this.acceptsImages && images.length !== 1)
      throw new MmftError('E_INPUT', `${this.dir} reads one image with every prompt, and the request has ${images.length}`, {
        hint: 'send exactly one image_url part (a data URL) in a user message',
      });
    const tokenizer = this.text();
    const contents = turns.map((t) => (t.images.length > 0 ? withImageMark(t.text, this.imageTokens) : t.text));
    const pixels = this.acceptsImages ? await this.pixels(images[0]!) : undefined;
    const templated = typeof tokenizer.applyChatTemplate === 'function' && !!tokenizer.chatTemplate;
    const text = templated
      ? tokenizer.applyChatTemplate(
          turns.map((t, i) => ({ role: t.role, content: contents[i]! })),
          { addGenerationPrompt: true },
        )
      : contents.join('\n');
    // No text: BLIP-2 captions from bos, as its generate() starts when given only pixels.
    if (pixels && text.trim() === '' && this.imageTokens?.placement !== 'placeholder') {
      const bos = (this.folder.generationConfig?.bos_token_id ?? (this.folder.config.text_config as Json | undefined)?.bos_token_id) as
        number | undefined;
      return { ids: [...imagePromptIds(tokenizer, '', this.imageTokens, false, 'messages'), bos ?? 1], pixels };
    }
    const ids = imagePromptIds(tokenizer, text, this.imageTokens, !templated, 'messages');
    return pixels ? { ids, pixels } : { ids };
  }
}
