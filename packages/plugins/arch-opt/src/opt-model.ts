// OPTForCausalLM: the programmatic face of this plugin (CausalLanguageModel contract). Loads and saves
// checkpoint folders in transformers' layout and runs OPTForCausalLM.forward
// (transformers/models/opt/modeling_opt.py); loss, generate() and save() come from core's CausalLMBase.
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, type LoadOptions, type ModelInputs, type ModelProcessor, type ModelTowers, requireEngine } from '@mmft/core';
import { tokenizerFromFiles, type HfTokenizer, hfConfigFields } from '@mmft/core/hf';
import { CausalLMBase, loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import type { OptConfig, OptConfigInput } from './config';
import { parseOptConfig } from './checkpoint/parse-config';
import { OPT_TIED_WEIGHTS, OptForCausalLMRoot } from './model/opt-root';

/** Options of `OPTForCausalLM.fromConfig`. */
export interface OptFromConfigOptions {
  /** Seed of the initialisation; the same seed gives bit-identical weights. */
  seed?: number;
  /** Tokenizer files (tokenizer.json, tokenizer_config.json, ...) to carry and save with the model. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array | string>;
  /** generation_config.json; default what transformers derives from the config. */
  generationConfig?: Record<string, unknown>;
}

const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

/**
 * Parameter globs of the named parts: the whole model is the language tower (a tied lm_head is the
 * embedding itself, so it appears under model.** only).
 */
export function optTowers(config: OptConfig): ModelTowers {
  return { language: config.tie_word_embeddings ? ['model.**'] : ['model.**', 'lm_head.**'] };
}

function optProcessor(config: OptConfig, tokenizer: HfTokenizer | undefined): ModelProcessor {
  return { tokenizer, chatTemplate: tokenizer?.chatTemplate, towers: optTowers(config) };
}

/**
 * transformers' OPTForCausalLM; `root` parameters carry its state-dict names.
 *
 * @example
 * const model = await OPTForCausalLM.fromPretrained('models/opt-shapes-base');
 * const { sequences, texts } = await model.generate(inputs, { maxNewTokens: 20 });
 * await model.save('out/opt-ft');
 */
export class OPTForCausalLM extends CausalLMBase<OptConfig> {
  declare readonly root: OptForCausalLMRoot;

  private constructor(
    root: OptForCausalLMRoot,
    config: OptConfig,
    tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    generationConfig: Record<string, unknown> | undefined,
    /** What loading skipped (unexpected tensors with ignoreUnexpected); absent for fromConfig. */
    readonly loadReport?: LoadCausalLmWeightsResult,
  ) {
    const tokenizer = tokenizerFromFiles(tokenizerFiles, { maxPositions: config.max_position_embeddings });
    super({
      modelType: 'opt',
      architecture: 'OPTForCausalLM',
      root,
      config,
      processor: optProcessor(config, tokenizer),
      generationConfig,
      numLayers: config.num_hidden_layers,
      tokenizerFiles,
      tied: config.tie_word_embeddings ? OPT_TIED_WEIGHTS : {},
    });
  }

  /**
   * A freshly initialised OPT (N(0, init_std) weights, zero biases, pad row zero) from a partial
   * config.json object; training mode. Synchronous: in a script, `await ensureBackend()` first.
   */
  static fromConfig(config: OptConfigInput = {}, options: OptFromConfigOptions = {}): OPTForCausalLM {
    const parsed = parseOptConfig(hfConfigFields(config), 'config');
    requireEngine('OPTForCausalLM.fromConfig');
    const files = new Map([...(options.tokenizerFiles ?? [])].map(([name, v]) => [name, toBytes(v)] as const));
    const root = new OptForCausalLMRoot(parsed, options.seed);
    return new OPTForCausalLM(root.train(), parsed, files, options.generationConfig);
  }

  /**
   * Loads a checkpoint folder in HF layout (model.safetensors or shards; F16/BF16 upcast; lm_head.weight
   * absent when tied); evaluation mode, as from_pretrained leaves models.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<OPTForCausalLM> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'OPT' });
    const config = parseOptConfig(folder.config, `${dir}/config.json`);
    await ensureBackend();
    const root = new OptForCausalLMRoot(config, undefined, false);
    try {
      const report = loadCausalLmWeights(root, folder.tensors, {
        tied: config.tie_word_embeddings ? OPT_TIED_WEIGHTS : {},
        ignoreUnexpected: options.ignoreUnexpected,
        // from_pretrained accepts OPTModel checkpoints saved without the "model." prefix.
        basePrefix: 'model',
        tensorFiles: folder.tensorFiles,
        source: folder.files.join(', '),
        modelName: 'OPTForCausalLM',
      });
      return new OPTForCausalLM(root.eval(), config, folder.tokenizerFiles, folder.generationConfig, report);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** Logits [B, T, vocab_size]; with `pastKeyValues`, this call's keys/values are appended to it. */
  logitsOf(inputs: ModelInputs): tf.Tensor {
    return this.root.forward({
      inputIds: inputs.inputIds,
      inputsEmbeds: inputs.inputsEmbeds,
      attentionMask: inputs.attentionMask,
      positionIds: inputs.positionIds,
      cache: inputs.pastKeyValues,
    });
  }

  /** get_input_embeddings()(ids): [B, T, word_embed_proj_dim], before project_in. */
  embedTokens(inputIds: tf.Tensor): tf.Tensor {
    return this.root.decoder.embedTokens(inputIds);
  }
}
