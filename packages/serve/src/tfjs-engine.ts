// The first InferenceEngine: a VisionLanguageModel loaded with tfjs. Chat models (causal LMs, and
// vision-to-LLM bridges such as BLIP-2 and LLaVA) decode through their generateStream, the prompt
// built as `mmft generate` builds it: the tokenizer's chat template when it has one (as vLLM and
// transformers' pipelines render chat requests), the image span placed by core's imagePromptIds, the
// pixels preprocessed by @mmft/image with preprocessor_config.json. Dual encoders (CLIP) embed texts
// and images, L2-normalised as their text_embeds / image_embeds.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  architectureContext,
  imagePromptIds,
  isCausalLanguageModel,
  loadAdapter,
  MmftError,
  withImageMark,
  type GenerationChunk,
  type GenerationOptions,
  type ModelInputs,
  type PluginRegistry,
  type TextTokenizer,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import type { ChatRequest, ChatTurn, EmbeddingInput, InferenceEngine } from './engine';

type StreamingModel = VisionLanguageModel & {
  generateStream(inputs: ModelInputs, options?: GenerationOptions): AsyncIterable<GenerationChunk>;
};

interface ChatTokenizer extends TextTokenizer {
  readonly chatTemplate?: string;
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

const streams = (m: VisionLanguageModel): m is StreamingModel => typeof (m as Partial<StreamingModel>).generateStream === 'function';

/** Whether a model generates from images (a bridge with generateStream). */
const readsImages = (m: VisionLanguageModel): boolean => m.family === 'vision-to-llm' && streams(m);

/**
 * @example
 * const engine = await TfjsEngine.load('models/llava-shapes-base', registry);
 * for await (const piece of engine.chat({ messages, maxTokens: 20 }, signal)) process.stdout.write(piece);
 */
export class TfjsEngine implements InferenceEngine {
  readonly kind: 'chat' | 'embeddings';
  readonly family: string;
  readonly acceptsImages: boolean;

  constructor(
    readonly model: VisionLanguageModel,
    private readonly source = model.modelType,
  ) {
    this.family = model.family;
    if (model.family === 'dual-encoder') this.kind = 'embeddings';
    else if (isCausalLanguageModel(model) || readsImages(model)) this.kind = 'chat';
    else
      throw new MmftError(
        'E_UNSUPPORTED',
        `${source}: model_type "${model.modelType}" (${model.family}) neither generates text nor embeds`,
        {
          hint: 'serve a causal LM (llama, opt, gpt2), a vision-to-LLM model (blip-2, llava) or a dual encoder (clip)',
        },
      );
    this.acceptsImages = this.kind === 'chat' && readsImages(model);
  }

  /** Loads a checkpoint folder through the registry's architectures (and a PEFT adapter folder, applied as `mmft generate` does). */
  static async load(dir: string, registry: PluginRegistry, options: { adapter?: string } = {}): Promise<TfjsEngine> {
    const modelType = await readModelType(dir);
    const architecture = registry.resolveModelType(modelType, {
      source: path.join(dir, 'config.json'),
      hint: 'load the plugin for this model with --plugin <package>',
    });
    const model = await architecture.fromPretrained(dir, {}, architectureContext(registry));
    try {
      if (options.adapter)
        await loadAdapter(options.adapter, model.root, registry.list('peft'), { renameKey: model.checkpointKeyName?.bind(model) });
      return new TfjsEngine(model, dir);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  countTokens(text: string): number {
    return this.tokenizer().encode([text], { truncation: false }).inputIds[0]!.length;
  }

  async *chat(request: ChatRequest, signal: AbortSignal): AsyncIterable<string> {
    if (this.kind !== 'chat') throw new MmftError('E_UNSUPPORTED', `${this.source}: a ${this.family} model does not chat`);
    const owned: tf.Tensor[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    try {
      const inputs = await this.chatInputs(request.messages, owned);
      promptTokens = inputs.inputIds?.shape[1] ?? 0;
      const options: GenerationOptions = {
        maxNewTokens: request.maxTokens,
        ...(request.temperature === undefined
          ? {}
          : request.temperature === 0
            ? { doSample: false }
            : { doSample: true, temperature: request.temperature }),
        ...(request.topP === undefined ? {} : { topP: request.topP }),
        ...(request.seed === undefined ? {} : { seed: request.seed }),
      };
      for await (const chunk of (this.model as StreamingModel).generateStream(inputs, options)) {
        if (signal.aborted) return;
        if ((chunk.tokens[0] ?? -1) >= 0) completionTokens += 1;
        const text = chunk.texts[0] ?? '';
        if (text !== '') yield text;
      }
    } finally {
      tf.dispose(owned);
      request.onUsage?.({ promptTokens, completionTokens, finishReason: completionTokens >= request.maxTokens ? 'length' : 'stop' });
    }
  }

  async embed(inputs: readonly EmbeddingInput[]): Promise<Float32Array[]> {
    if (this.kind !== 'embeddings') throw new MmftError('E_UNSUPPORTED', `${this.source}: a ${this.family} model has no embeddings`);
    const out: Float32Array[] = [];
    for (const input of inputs) {
      if ('text' in input) {
        const maxLength =
          ((this.model.config.text_config as Record<string, unknown> | undefined)?.max_position_embeddings as number | undefined) ?? 77;
        const { inputIds, attentionMask } = this.tokenizer().encode([input.text], { truncation: true, maxLength });
        out.push(
          tf.tidy(() => {
            const o = this.model.forward({
              inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
              attentionMask: tf.tensor2d(attentionMask, undefined, 'int32'),
            });
            return o.textEmbeds!.dataSync() as Float32Array;
          }),
        );
      } else {
        const pixels = await this.pixels(input.image);
        try {
          out.push(tf.tidy(() => this.model.forward({ pixelValues: pixels }).imageEmbeds!.dataSync() as Float32Array));
        } finally {
          pixels.dispose();
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.model.dispose();
  }

  private tokenizer(): TextTokenizer {
    const t = this.model.processor.tokenizer;
    if (!t) throw new MmftError('E_CHECKPOINT', `${this.source}: the folder has no tokenizer.json, so text cannot be encoded`);
    return t;
  }

  /** [1, 3, S, S] pixels of one image, as the checkpoint's preprocessor_config.json says. */
  private async pixels(bytes: Uint8Array): Promise<tf.Tensor4D> {
    const p = this.model.processor.imageProcessing;
    if (!p) throw new MmftError('E_CHECKPOINT', `${this.source}: the model reads images but has no preprocessor_config.json`);
    const options = preprocessOptionsSchema.parse({ size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
    const image = await preprocessResolved(bytes, options);
    const [, h, w] = image.shape;
    return tf.tensor4d(image.data, [1, 3, h, w], 'float32');
  }

  /** Token ids (and pixels) of a conversation; see the file comment. */
  private async chatInputs(turns: readonly ChatTurn[], owned: tf.Tensor[]): Promise<ModelInputs> {
    const images = turns.flatMap((t) => t.images);
    const imageTokens = this.model.processor.imageTokens;
    if (this.acceptsImages && images.length !== 1)
      throw new MmftError('E_INPUT', `${this.source} reads one image with every prompt, and the request has ${images.length}`, {
        hint: 'send exactly one image_url part (a data URL) in a user message',
      });
    const tokenizer = this.tokenizer() as ChatTokenizer;
    const placeholder = imageTokens?.placement === 'placeholder';
    // LLaVA's <image> mark goes in front of the image turn's text, as `mmft generate` and LLaVA's
    // training data place it (preprocess_multimodal), wherever the part stood among the text parts.
    const contents = turns.map((t) => (t.images.length > 0 ? withImageMark(t.text, imageTokens) : t.text));
    let pixelValues: tf.Tensor | undefined;
    if (this.acceptsImages) {
      pixelValues = await this.pixels(images[0]!);
      owned.push(pixelValues);
    }
    const templated = typeof tokenizer.applyChatTemplate === 'function' && !!tokenizer.chatTemplate;
    const text = templated
      ? tokenizer.applyChatTemplate(
          turns.map((t, i) => ({ role: t.role, content: contents[i]! })),
          { addGenerationPrompt: true },
        )
      : contents.join('\n');
    // No text: BLIP-2's generate starts from bos (and its image span) itself, as a caption.
    if (pixelValues && text.trim() === '' && !placeholder) return { pixelValues };
    const ids = imagePromptIds(tokenizer, text, imageTokens, !templated, 'messages');
    const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
    const attentionMask = tf.ones([1, ids.length], 'int32');
    owned.push(inputIds, attentionMask);
    return pixelValues ? { pixelValues, inputIds, attentionMask } : { inputIds, attentionMask };
  }
}
