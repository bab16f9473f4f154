// LlamaForCausalLM: the programmatic face of this plugin (CausalLanguageModel contract). Loads and
// saves checkpoint folders in transformers' layout and runs LlamaForCausalLM.forward
// (src/transformers/models/llama/modeling_llama.py); loss, generate() and save come from core's
// CausalLMBase (@mmft/core/lm), the decoder blocks from @mmft/core/nn.
import type * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, type LoadOptions, type ModelInputs } from '@mmft/core';
import { tokenizerFromFiles, hfConfigFields } from '@mmft/core/hf';
import { CausalLMBase, loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import { parseLlamaConfig } from './checkpoint/parse-config';
import type { LlamaConfig, LlamaConfigInput } from './config';
import { initLlamaWeights } from './model/init-weights';
import { LlamaForCausalLMRoot } from './model/llama-model';
import { llamaProcessor } from './processor';

/** transformers' _tied_weights_keys of LlamaForCausalLM, in force when tie_word_embeddings. */
const TIED = { 'lm_head.weight': 'model.embed_tokens.weight' } as const;
/** Buffers older transformers saved in the state dict (rotary inv_freq before 4.31); not parameters. */
const LEGACY_BUFFERS = [/(^|\.)rotary_emb\.inv_freq$/];

/** Options of `LlamaForCausalLM.fromConfig`. */
export interface LlamaFromConfigOptions {
  /** Seed of the initialisation; the same seed gives bit-identical weights. */
  seed?: number;
  /** Tokenizer files (tokenizer.json, tokenizer_config.json, ...) to carry and save with the model. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array | string>;
  /** generation_config.json to save (default: derived from the config as transformers does). */
  generationConfig?: Readonly<Record<string, unknown>>;
}

const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

/**
 * A Llama causal LM whose `root` parameters carry HF LlamaForCausalLM state-dict names.
 *
 * @example
 * const model = await LlamaForCausalLM.fromPretrained('models/llama-shapes-base');
 * const { texts } = await model.generate({ inputIds, attentionMask }, { maxNewTokens: 20 });
 * await model.save('out/llama-ft');
 */
export class LlamaForCausalLM extends CausalLMBase<LlamaConfig> {
  declare readonly root: LlamaForCausalLMRoot;

  private constructor(
    root: LlamaForCausalLMRoot,
    config: LlamaConfig,
    tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    generationConfig: Readonly<Record<string, unknown>> | undefined,
    /** What loading skipped (ignored unexpected tensors, tied names filled from their source); absent for fromConfig. */
    readonly loadReport?: LoadCausalLmWeightsResult,
  ) {
    const tokenizer = tokenizerFromFiles(tokenizerFiles);
    super({
      modelType: 'llama',
      architecture: 'LlamaForCausalLM',
      root,
      config,
      processor: llamaProcessor(tokenizer, config.tie_word_embeddings),
      generationConfig,
      numLayers: config.num_hidden_layers,
      tokenizerFiles,
      tied: config.tie_word_embeddings ? TIED : undefined,
    });
  }

  /**
   * A freshly initialised Llama (HF's _init_weights) from a partial config.json object; training
   * mode. Needs a tensor engine: `await ensureBackend()` (from @mmft/core) first in a script.
   */
  static fromConfig(config: LlamaConfigInput = {}, options: LlamaFromConfigOptions = {}): LlamaForCausalLM {
    const parsed = parseLlamaConfig(hfConfigFields(config), 'config');
    const root = new LlamaForCausalLMRoot(parsed);
    try {
      initLlamaWeights(root, parsed, options.seed);
    } catch (error) {
      root.dispose();
      throw error;
    }
    const files = new Map([...(options.tokenizerFiles ?? [])].map(([name, v]) => [name, toBytes(v)] as const));
    return new LlamaForCausalLM(root.train(), parsed, files, options.generationConfig);
  }

  /**
   * Loads a checkpoint folder in HF layout (model.safetensors or a sharded index; F16/BF16 upcast;
   * lm_head.weight absent when tied); evaluation mode, as from_pretrained leaves models. A missing,
   * mis-shaped or (without ignoreUnexpected) unknown tensor is an E_CHECKPOINT error naming it.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<LlamaForCausalLM> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'Llama' });
    const config = parseLlamaConfig(folder.config, `${dir}/config.json`);
    await ensureBackend();
    const root = new LlamaForCausalLMRoot(config);
    try {
      const report = loadCausalLmWeights(root, folder.tensors, {
        tied: config.tie_word_embeddings ? TIED : undefined,
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: LEGACY_BUFFERS,
        basePrefix: 'model',
        tensorFiles: folder.tensorFiles,
        source: folder.files.length === 1 ? folder.files[0] : `${dir}/model.safetensors.index.json`,
        modelName: 'LlamaForCausalLM',
      });
      return new LlamaForCausalLM(root.eval(), config, folder.tokenizerFiles, folder.generationConfig, report);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** Logits [B, T, vocab_size]; appends this call's keys/values to `inputs.pastKeyValues` when given. */
  logitsOf(inputs: ModelInputs): tf.Tensor {
    return this.root.forward({
      inputIds: inputs.inputIds,
      inputsEmbeds: inputs.inputsEmbeds,
      attentionMask: inputs.attentionMask,
      positionIds: inputs.positionIds,
      cache: inputs.pastKeyValues,
      // The loss needs every position's logits.
      logitsToKeep: inputs.labels ? undefined : inputs.logitsToKeep,
    });
  }

  /** model.embed_tokens(ids): [B, T] → [B, T, hidden_size]. */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.root.model.embed(inputIds);
  }
}
