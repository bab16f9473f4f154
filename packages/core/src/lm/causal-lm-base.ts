// What every decoder-only LM class (OPTForCausalLM, GPT2LMHeadModel, LlamaForCausalLM) shares, as
// transformers' PreTrainedModel + GenerationMixin give it to each *ForCausalLM: the loss of
// `forward` when labels are given (loss/loss_utils.py ForCausalLMLoss), generate() through core's
// decoding loop (generation/generate.ts), save_pretrained's folder layout, and disposal. A family supplies the module tree,
// its config and `logitsOf` (the forward pass up to the head). Prefix and prompt tuning attach
// here at the model level (contracts/prompt-learning.ts), as PEFT's PeftModelForCausalLM wraps
// every causal LM (peft/peft_model.py).
import * as tf from '@tensorflow/tfjs-core';
import type { SaveOptions } from '../contracts/architecture';
import type { CausalLMOutputs, GenerationChunk } from '../contracts/causal-lm';
import type { GenerationOptions, GenerationResult, ImageProcessing, ModelInputs, ModelProcessor, TextTokenizer } from '../contracts/model';
import { registerCausalLmPromptHost, type CausalLmPromptHost, type CausalLmPromptSource } from '../contracts/prompt-learning';
import { MmftError, assertThat } from '../errors';
import { generate, generateStream, type GenerationContext } from '../generation';
import { DynamicCache } from '../nn/kv-cache';
import { positionIdsFromMask } from '../nn/masks';
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
> implements CausalLmPromptHost {
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
  private source: CausalLmPromptSource | undefined;

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
    registerCausalLmPromptHost(parts.root, this);
  }

  /** The prefix-tuning or prompt-tuning source attached by a PEFT method (contracts/prompt-learning.ts). */
  get promptSource(): CausalLmPromptSource | undefined {
    return this.source;
  }

  setPromptSource(source: CausalLmPromptSource | undefined): void {
    this.source = source;
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
    const source = this.source;
    if (!source || source.numVirtualTokens === 0) return this.forwardModel(inputs);
    const prepared = withPromptSource(inputs, source, (ids) => this.embedTokens(ids));
    try {
      return this.forwardModel(prepared.inputs);
    } finally {
      prepared.dispose();
    }
  }

  private forwardModel(inputs: ModelInputs): CausalLMOutputs {
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

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/**
 * The inputs PEFT's PeftModelForCausalLM hands the base model (peft/peft_model.py forward,
 * prepare_inputs_for_generation, _adjust_prompt_learning_kwargs), and what to free afterwards.
 * A sequence starts when there is no cache or an empty one (PEFT's requires_prompt_injection); only
 * then do prefixes enter the cache or virtual tokens the embeddings. On every call the mask gains P
 * leading ones. Positions: prefix tuning shifts the caller's positions by P (PEFT adds
 * num_virtual_tokens to position_ids; without them transformers counts from the cache length, which
 * holds the P prefix positions, models/llama/modeling_llama.py cache_position), so real tokens sit at
 * P, P+1, ...; prompt tuning ignores the caller's positions as PEFT does and takes them from the
 * widened mask, so virtual tokens sit at 0..P-1 and real tokens after them.
 */
function withPromptSource(
  inputs: ModelInputs,
  source: CausalLmPromptSource,
  embed: (ids: tf.Tensor) => tf.Tensor,
): { inputs: ModelInputs; dispose(): void } {
  const lead = inputs.inputsEmbeds ?? inputs.inputIds;
  if (!lead) {
    throw new MmftError('E_INPUT', `${source.kind} tuning: the forward needs inputIds [B, T] or inputsEmbeds [B, T, D]`);
  }
  const [batch, length] = [lead.shape[0]!, lead.shape[1]!];
  const p = source.numVirtualTokens;
  const cache = inputs.pastKeyValues;
  const starts = !cache || cache.length === 0;
  const owned: tf.Tensor[] = [];
  let ownedCache: DynamicCache | undefined;
  const free = () => {
    tf.dispose(owned);
    ownedCache?.dispose();
  };
  try {
    let pastKeyValues = cache;
    let past = cache?.length ?? 0; // positions cached before this call's tokens (prefixes included)
    let inputIds = inputs.inputIds;
    let inputsEmbeds = inputs.inputsEmbeds;
    let labels = inputs.labels;
    let query = length;
    if (source.kind === 'prefix' && starts) {
      pastKeyValues = cache ?? (ownedCache = new DynamicCache());
      const layers = source.keyValues(batch);
      try {
        layers.forEach(({ key, value }, layer) => pastKeyValues!.update(layer, key, value));
      } finally {
        tf.dispose(layers.flatMap(({ key, value }) => [key, value]));
      }
      past = pastKeyValues.length;
    }
    if (source.kind === 'prompt' && starts) {
      const keep = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
      const real = inputsEmbeds ?? keep(embed(inputIds!));
      const prompts = keep(source.embeddings(batch));
      assertThat(
        prompts.rank === 3 && prompts.shape[0] === batch && prompts.shape[1] === p && prompts.shape[2] === real.shape[2],
        'E_SHAPE',
        () =>
          `prompt tuning: virtual tokens ${shapeOf(prompts)} do not fit embeddings ${shapeOf(real)} (expected [${batch}, ${p}, ${real.shape[2]}])`,
      );
      inputsEmbeds = keep(tf.concat([prompts, real], 1));
      inputIds = undefined;
      if (labels) labels = keep(tf.tidy(() => tf.concat([tf.fill([batch, p], -100, labels!.dtype), labels!], 1)));
      query = p + length;
    }
    const given = inputs.attentionMask;
    const expected = past + query - p; // what the caller's mask covers: its own past and new tokens
    assertThat(
      !given || (given.rank === 2 && given.shape[0] === batch && given.shape[1] === expected),
      'E_SHAPE',
      () =>
        `${source.kind} tuning: attentionMask ${shapeOf(given!)} must be [${batch}, ${expected}] (the past and new tokens without the ` +
        `${p} virtual positions, which the model adds in front)`,
    );
    const attentionMask = tf.tidy(() =>
      given ? tf.concat([tf.ones([batch, p], given.dtype), given], 1) : tf.ones([batch, past + query], 'int32'),
    );
    owned.push(attentionMask);
    const positionIds =
      source.kind === 'prefix' && inputs.positionIds
        ? tf.tidy(() => tf.add(inputs.positionIds!, tf.scalar(p, inputs.positionIds!.dtype)))
        : positionIdsFromMask(attentionMask, past, query);
    owned.push(positionIds);
    return {
      inputs: { ...inputs, inputIds, inputsEmbeds, labels, attentionMask, positionIds, pastKeyValues },
      dispose: free,
    };
  } catch (error) {
    free();
    throw error;
  }
}
