// What every decoder-only LM class (OPTForCausalLM, GPT2LMHeadModel, LlamaForCausalLM) shares, as
// transformers' PreTrainedModel + GenerationMixin give it to each *ForCausalLM: the loss of
// `forward` when labels are given (loss/loss_utils.py ForCausalLMLoss), generate() through core's
// decoding loop (generation/generate.ts), save_pretrained's folder layout, and disposal. A family supplies the module tree,
// its config and `logitsOf` (the forward pass up to the head).
import type * as tf from '@tensorflow/tfjs-core';
import type { SaveOptions } from '../contracts/architecture';
import type { CausalLanguageModel, CausalLMOutputs, GenerationChunk } from '../contracts/causal-lm';
import type { GenerationOptions, GenerationResult, ImageProcessing, ModelInputs, ModelProcessor, TextTokenizer } from '../contracts/model';
import { MmftError } from '../errors';
import { generate, generateStream, type GenerationContext } from '../generation';
import type { AnyModule } from '../nn/module';
import { generationConfigFromModelConfig, TRANSFORMERS_VERSION } from './generation-config';
import { causalLmLoss } from './loss';
import { saveCausalLmFolder } from './save';

/** What a family hands to CausalLMBase. */
export interface CausalLMParts<Config extends Readonly<Record<string, unknown>>> {
  /** config.json `model_type` ('opt', 'gpt2', 'llama'). */
  readonly modelType: string;
  /** The transformers class, written to config.json `architectures` ('OPTForCausalLM'). */
  readonly architecture: string;
  /** The module tree; parameter names are the HF state-dict names. */
  readonly root: AnyModule;
  /** config.json with the family's defaults filled in. */
  readonly config: Config;
  readonly processor: ModelProcessor;
  /** generation_config.json as read; when absent, derived from `config` (GenerationConfig.from_model_config). */
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  readonly numLayers: number;
  /** Tokenizer files as read, written back byte for byte on save. */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /** Tied parameter → source (`_tied_weights_keys`): not written on save when they share a variable. */
  readonly tied?: Readonly<Record<string, string>>;
}

/**
 * The shared half of a causal LM. Subclasses implement `logitsOf` (logits [B, T, V] for ids or
 * embeddings, with the attention mask, positions and the KV cache of `inputs`) and `embedTokens`.
 *
 * @example
 * class TinyLM extends CausalLMBase {
 *   logitsOf(inputs: ModelInputs) { return tf.tidy(() => head.forward(embed.forward(inputs.inputIds!))); }
 *   embedTokens(ids: tf.Tensor) { return embed.forward(ids); }
 * }
 * const { loss } = new TinyLM(parts).forward({ inputIds, labels });
 */
export abstract class CausalLMBase<
  Config extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>,
> implements CausalLanguageModel {
  readonly family = 'language-model' as const;
  readonly modelType: string;
  readonly architecture: string;
  readonly root: AnyModule;
  readonly config: Config;
  readonly processor: ModelProcessor;
  readonly generationConfig: Readonly<Record<string, unknown>>;
  readonly numLayers: number;
  readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>;
  readonly tied: Readonly<Record<string, string>>;
  private disposed = false;

  constructor(parts: CausalLMParts<Config>) {
    this.modelType = parts.modelType;
    this.architecture = parts.architecture;
    this.root = parts.root;
    this.config = parts.config;
    this.processor = parts.processor;
    this.generationConfig = parts.generationConfig ?? generationConfigFromModelConfig(parts.config);
    this.numLayers = parts.numLayers;
    this.tokenizerFiles = parts.tokenizerFiles ?? new Map();
    this.tied = parts.tied ?? {};
  }

  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }

  get imageProcessing(): ImageProcessing | undefined {
    return this.processor.imageProcessing;
  }

  /** Logits [B, T, V] (float32) for `inputs`; appends to `inputs.pastKeyValues` when given. */
  abstract logitsOf(inputs: ModelInputs): tf.Tensor;

  abstract embedTokens(inputIds: tf.Tensor): tf.Tensor;

  /**
   * Logits, and with `labels` the causal-LM loss (mean over label tokens, or their sum /
   * `numItemsInBatch`). The caller owns the returned tensors.
   */
  forward(inputs: ModelInputs): CausalLMOutputs {
    this.assertLive();
    const logits = this.logitsOf(inputs);
    if (!inputs.labels) return { logits };
    try {
      return { logits, loss: causalLmLoss(logits, inputs.labels, inputs.numItemsInBatch) };
    } catch (error) {
      logits.dispose();
      throw error;
    }
  }

  /**
   * transformers' generate() for this model (`@mmft/core/generation`): options over
   * generation_config.json over HF's defaults; the new tokens of each returned sequence, decoded.
   */
  async generate(inputs: ModelInputs, options: GenerationOptions = {}): Promise<GenerationResult> {
    this.assertLive();
    return generate(this, inputs, options, this.generationContext());
  }

  /** The same decoding, one chunk per new token (greedy or sampling; beam search cannot stream). */
  generateStream(inputs: ModelInputs, options: GenerationOptions = {}): AsyncIterable<GenerationChunk> {
    this.assertLive();
    return generateStream(this, inputs, options, this.generationContext());
  }

  /** What the decoding loop reads besides the options; a family overrides it for another position-limit field. */
  protected generationContext(): GenerationContext {
    const positions = this.config.max_position_embeddings ?? this.config.n_positions;
    return {
      generationConfig: this.generationConfig,
      tokenizer: this.tokenizer,
      maxPositionEmbeddings: typeof positions === 'number' ? positions : undefined,
    };
  }

  /** config.json as save_pretrained writes it; a family overrides this to drop or rename fields. */
  protected configJson(): Record<string, unknown> {
    return {
      ...this.config,
      architectures: [this.architecture],
      model_type: this.modelType,
      torch_dtype: 'float32',
      transformers_version: TRANSFORMERS_VERSION,
    };
  }

  /**
   * Writes the Hugging Face layout to `dir`: config.json, generation_config.json,
   * model.safetensors (tied copies left out) and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    this.assertLive();
    await saveCausalLmFolder(
      dir,
      {
        root: this.root,
        config: this.configJson(),
        generationConfig: this.generationConfig,
        tokenizerFiles: this.tokenizerFiles,
        tied: this.tied,
      },
      options,
    );
  }

  /** Frees every variable (tied ones once); the model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.root.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new MmftError('E_INPUT', `${this.architecture} was disposed; load or build the model again`);
  }
}
