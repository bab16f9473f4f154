// An InferenceEngine over a folder written by `mmft export onnx` (docs/onnx.md), run by
// onnxruntime-node on the CPU, with no architecture plugin: everything it needs is in the folder.
// - causal LM: `model.onnx` (or `model_bnb4.onnx`), decoded one token per step through the KV cache
//   by the exporter's greedyDecodeOnnx (packages/plugins/exporter-onnx/src/causal-lm/decode.ts);
// - LLaVA / BLIP-2: `onnx/vision_encoder`, `embed_tokens`, `decoder_model_merged` through the
//   exporter's generateVlmOnnx (src/vlm/decode.ts), the transformers.js layout;
// - CLIP: `text_model.onnx` / `vision_model.onnx`, L2-normalised as TfjsEngine's embeds are (onnx-clip.ts).
// The layout is found by onnx-folder.ts, prompts are built by onnx-prompt.ts as TfjsEngine builds them
// (tfjs-engine.ts), and onnx-chat.ts decodes a chat request with core's generation settings and samplers.
import * as path from 'node:path';
import { MmftError, type ImageTokens } from '@mmft/core';
import { readHfFolder, tokenizerFromFiles, type HfFolder } from '@mmft/core/hf';
import type * as Ort from 'onnxruntime-node';
import type { ChatRequest, EmbeddingInput, InferenceEngine } from './engine';
import { onnxChat, type OnnxChatSource } from './onnx-chat';
import { onnxEmbed } from './onnx-clip';
import { detectOnnxExport, type OnnxExport } from './onnx-folder';
import { vlmImageTokens, type ChatTokenizer, type Json } from './onnx-prompt';
import { ort } from './onnx-runtime';

export { l2Normalize } from './onnx-clip';
export { detectOnnxExport, type OnnxExport, type OnnxLayout } from './onnx-folder';
export { vlmImageTokens } from './onnx-prompt';

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
    yield* onnxChat(this.source(), request, signal);
  }

  async embed(inputs: readonly EmbeddingInput[]): Promise<Float32Array[]> {
    if (this.kind !== 'embeddings') throw new MmftError('E_UNSUPPORTED', `${this.dir}: a ${this.family} export has no embeddings`);
    return onnxEmbed(this.source(), this.sessions, inputs);
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.sessions)) await s.release();
  }

  private text(): ChatTokenizer {
    if (!this.tokenizer) throw new MmftError('E_CHECKPOINT', `${this.dir}: the export has no tokenizer.json, so text cannot be encoded`);
    return this.tokenizer;
  }

  /** What the prompt, decoding and embedding helpers read from this export. */
  private source(): OnnxChatSource {
    return {
      dir: this.dir,
      folder: this.folder,
      acceptsImages: this.acceptsImages,
      imageTokens: this.imageTokens,
      text: () => this.text(),
      suffix: this.layout.suffix,
      session: this.sessions[`model${this.layout.suffix}.onnx`],
    };
  }
}
