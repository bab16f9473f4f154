// GPT2LMHeadModel: the programmatic face of this plugin (CausalLanguageModel contract). Loads and
// saves checkpoint folders in transformers' layout and runs GPT2LMHeadModel.forward
// (transformers/models/gpt2/modeling_gpt2.py); loss, generate() and save() come from core's CausalLMBase.
import * as tf from '@tensorflow/tfjs-core';
import {
  ensureBackend,
  MmftError,
  type LoadOptions,
  type ModelInputs,
  type ModelProcessor,
  type ModelTowers,
  requireEngine,
} from '@mmft/core';
import { tokenizerFromFiles, type HfTokenizer, hfConfigFields } from '@mmft/core/hf';
import { CausalLMBase, loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import type { Gpt2Config, Gpt2ConfigInput } from './config';
import { parseGpt2Config } from './checkpoint/parse-config';
import { GPT2_TIED_WEIGHTS, Gpt2LMHeadRoot } from './model/gpt2-model';
import { initGpt2Weights } from './model/init-weights';

/** Options of `GPT2LMHeadModel.fromConfig`. */
export interface Gpt2FromConfigOptions {
  /** Seed of the initialisation; the same seed gives bit-identical weights. */
  seed?: number;
  /** Tokenizer files (tokenizer.json, tokenizer_config.json, ...) to carry and save with the model. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array | string>;
  /** generation_config.json; default what transformers derives from the config. */
  generationConfig?: Record<string, unknown>;
}

/**
 * Buffers older transformers saved with every GPT-2 (the causal `attn.bias` [1, 1, P, P] and
 * `attn.masked_bias`): GPT2PreTrainedModel._keys_to_ignore_on_load_unexpected drops them, and so does this.
 */
export const GPT2_IGNORED_BUFFERS: readonly RegExp[] = [/(^|\.)(attn|crossattention)\.(bias|masked_bias)$/];

const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

/**
 * Parameter globs of the named parts: the whole model is the language tower (a tied lm_head is wte
 * itself, listed under transformer.** only), as the other causal-LM families name it.
 */
export function gpt2Towers(config: Gpt2Config): ModelTowers {
  return { language: config.tie_word_embeddings ? ['transformer.**'] : ['transformer.**', 'lm_head.**'] };
}

function gpt2Processor(config: Gpt2Config, tokenizer: HfTokenizer | undefined): ModelProcessor {
  return { tokenizer, chatTemplate: tokenizer?.chatTemplate, towers: gpt2Towers(config) };
}

/**
 * transformers' GPT2LMHeadModel; `root` parameters carry its state-dict names (Conv1D weights [in, out]).
 *
 * @example
 * const model = await GPT2LMHeadModel.fromPretrained('models/gpt2');
 * const { sequences, texts } = await model.generate(inputs, { maxNewTokens: 20 });
 * await model.save('out/gpt2-ft');
 */
export class GPT2LMHeadModel extends CausalLMBase<Gpt2Config> {
  declare readonly root: Gpt2LMHeadRoot;

  private constructor(
    root: Gpt2LMHeadRoot,
    config: Gpt2Config,
    tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    generationConfig: Record<string, unknown> | undefined,
    /** What loading skipped (unexpected tensors with ignoreUnexpected); absent for fromConfig. */
    readonly loadReport?: LoadCausalLmWeightsResult,
  ) {
    const tokenizer = tokenizerFromFiles(tokenizerFiles, { maxPositions: config.n_positions });
    super({
      modelType: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      root,
      config,
      processor: gpt2Processor(config, tokenizer),
      generationConfig,
      numLayers: config.n_layer,
      tokenizerFiles,
      tied: config.tie_word_embeddings ? GPT2_TIED_WEIGHTS : {},
    });
  }

  /**
   * A freshly initialised GPT-2 (GPT2PreTrainedModel._init_weights) from a partial config.json
   * object; training mode. Synchronous: in a script, `await ensureBackend()` from @mmft/core first.
   */
  static fromConfig(config: Gpt2ConfigInput = {}, options: Gpt2FromConfigOptions = {}): GPT2LMHeadModel {
    const parsed = parseGpt2Config(hfConfigFields(config), 'config');
    requireEngine('GPT2LMHeadModel.fromConfig');
    const files = new Map([...(options.tokenizerFiles ?? [])].map(([name, v]) => [name, toBytes(v)] as const));
    const root = new Gpt2LMHeadRoot(parsed);
    initGpt2Weights(root, parsed, options.seed);
    return new GPT2LMHeadModel(root.train(), parsed, files, options.generationConfig);
  }

  /**
   * Loads a checkpoint folder in HF layout (model.safetensors or shards; F16/BF16 upcast; lm_head.weight
   * absent when tied; keys with or without `transformer.`; legacy attn.bias buffers skipped);
   * evaluation mode, as from_pretrained leaves models.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<GPT2LMHeadModel> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'GPT-2' });
    const config = parseGpt2Config(folder.config, `${dir}/config.json`);
    await ensureBackend();
    const root = new Gpt2LMHeadRoot(config);
    try {
      const report = loadCausalLmWeights(root, folder.tensors, {
        tied: config.tie_word_embeddings ? GPT2_TIED_WEIGHTS : {},
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: GPT2_IGNORED_BUFFERS,
        // GPT2Model.save_pretrained (the original "gpt2" files) writes keys without "transformer.".
        basePrefix: 'transformer',
        tensorFiles: folder.tensorFiles,
        source: folder.files.join(', '),
        modelName: 'GPT2LMHeadModel',
      });
      return new GPT2LMHeadModel(root.eval(), config, folder.tokenizerFiles, folder.generationConfig, report);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** Logits [B, T, vocab_size]; with `pastKeyValues`, this call's keys/values are appended to it. */
  logitsOf(inputs: ModelInputs): tf.Tensor {
    if (!inputs.inputIds && !inputs.inputsEmbeds) {
      throw new MmftError('E_INPUT', 'GPT2LMHeadModel.forward needs inputIds [B, T] or inputsEmbeds [B, T, n_embd]');
    }
    return this.root.forward({
      inputIds: inputs.inputIds,
      inputsEmbeds: inputs.inputsEmbeds,
      attentionMask: inputs.attentionMask,
      positionIds: inputs.positionIds,
      cache: inputs.pastKeyValues,
    });
  }

  /** get_input_embeddings()(ids) = wte(ids): [B, T, n_embd], without positions. */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.root.embedTokens(inputIds);
  }
}
