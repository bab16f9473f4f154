// Prefix tuning and prompt tuning on causal language models (OPTForCausalLM, GPT2LMHeadModel,
// LlamaForCausalLM, any CausalLMBase) at the model level, as PEFT's PeftModelForCausalLM does
// (peft/peft_model.py forward, get_prompt, prepare_inputs_for_generation): the model's
// CausalLmPromptHost (core contracts/prompt-learning.ts) prefills every layer's cache with the prefix
// keys/values, or prepends the virtual tokens to the embeddings, and widens the mask. This file
// derives the shapes from config.json as peft/utils/other.py _prepare_prompt_learning_config does,
// keeps the tables under `prompt_encoder.<adapter>` (PEFT's in-model names) and installs the source.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterDict, freezeAllExcept, MmftError, type AppliedAdapter, type CausalLmPromptHost, type PeftLayer } from '@mmft/core';
import { repeatBatch, type Module } from '@mmft/core/nn';
import type { PrefixTuningConfig, PromptTuningConfig } from './config';
import { PrefixEncoder, type PrefixShape } from './prefix-encoder';
import { PromptEmbedding } from './prompt-embedding';
import { checkModelField, encoderDict, loadPromptEmbeddings } from './shared';

/** A prefix table of a causal LM: PrefixEncoder (same parameter names) that can be switched off. */
export class CausalLmPrefixEncoder extends PrefixEncoder implements PeftLayer {
  active = true;

  constructor(
    readonly adapterName: string,
    shape: PrefixShape,
    private readonly onChange: () => void,
    options: ConstructorParameters<typeof PrefixEncoder>[1] = {},
  ) {
    super(shape, options);
  }

  get peftAdapterNames(): string[] {
    return [this.adapterName];
  }

  isAdapterActive(name: string): boolean {
    return name === this.adapterName && this.active;
  }

  setAdapterActive(name: string, active: boolean): void {
    if (name !== this.adapterName) return;
    this.active = active;
    this.onChange();
  }
}

const numberField = (config: Readonly<Record<string, unknown>>, keys: readonly string[]): number | undefined => {
  for (const key of keys) if (typeof config[key] === 'number') return config[key] as number;
  return undefined;
};

/** PEFT's fallbacks for a field config.json lacks: the peft section's value, else an error naming both. */
function required(method: string, field: string, keys: readonly string[], model: number | undefined, given: number | undefined): number {
  if (model !== undefined) {
    checkModelField(method, field, given, model);
    return model;
  }
  if (given !== undefined) return given;
  throw new MmftError('E_CONFIG', `${method}: the model's config.json has none of ${keys.join(', ')}; set ${field} in the peft section`);
}

/**
 * The prefix shape PEFT computes for `host` (peft/utils/other.py _prepare_prompt_learning_config):
 * token_dim = hidden_size (n_embd, d_model), num_attention_heads = num_attention_heads (n_head,
 * num_heads); with num_key_value_heads in config.json (grouped-query attention, PEFT #1901) the
 * prefix is as wide as the keys: token_dim = head_dim · num_key_value_heads and
 * num_attention_heads = num_key_value_heads, head_dim from config.json or hidden_size / heads.
 */
export function causalLmPrefixShape(host: CausalLmPromptHost, config: PrefixTuningConfig): PrefixShape {
  const c = host.config;
  const method = 'prefix-tuning';
  const numLayers = required(method, 'num_layers', ['num_hidden_layers'], host.numLayers, config.num_layers);
  const widthKeys = ['hidden_size', 'n_embd', 'd_model'];
  const headKeys = ['num_attention_heads', 'n_head', 'num_heads'];
  const kvHeads = numberField(c, ['num_key_value_heads']);
  let tokenDim: number;
  let numHeads: number;
  if (kvHeads === undefined) {
    tokenDim = required(method, 'token_dim', widthKeys, numberField(c, widthKeys), config.token_dim);
    numHeads = required(method, 'num_attention_heads', headKeys, numberField(c, headKeys), config.num_attention_heads);
  } else {
    const width = numberField(c, widthKeys);
    const heads = numberField(c, headKeys);
    const headDim = numberField(c, ['head_dim']) ?? (width !== undefined && heads !== undefined ? width / heads : undefined);
    if (headDim === undefined || !Number.isInteger(headDim)) {
      throw new MmftError(
        'E_CONFIG',
        `${method}: cannot tell the head width from config.json (head_dim, hidden_size, num_attention_heads)`,
      );
    }
    tokenDim = headDim * kvHeads;
    numHeads = kvHeads;
    checkModelField(method, 'token_dim', config.token_dim, tokenDim);
    checkModelField(method, 'num_attention_heads', config.num_attention_heads, numHeads);
  }
  if (tokenDim % numHeads !== 0) {
    throw new MmftError('E_CONFIG', `${method}: token_dim ${tokenDim} is not a multiple of num_attention_heads ${numHeads}`);
  }
  return { numVirtualTokens: config.num_virtual_tokens, numLayers, tokenDim, numHeads };
}

function rejectTargets(method: string, given: unknown, fallback: unknown): void {
  if (given !== undefined && JSON.stringify(given) !== JSON.stringify(fallback)) {
    throw new MmftError(
      'E_CONFIG',
      `${method}: target_modules ${JSON.stringify(given)} does not apply to a causal language model, where PEFT feeds every layer at the model level`,
      { hint: 'remove target_modules from the peft section' },
    );
  }
}

/** PEFT runs one prompt-learning method at a time: refuse mixing prefix and prompt tuning on one LM. */
function rejectOtherMethod(root: Module, method: string, other: (m: unknown) => boolean, otherName: string): AdapterDict {
  const dict = encoderDict(root);
  const clash = dict.namedChildren().find(([, m]) => other(m));
  if (clash) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${method}: this causal LM already has the ${otherName} adapter "${clash[0]}"; one model runs one prompt-learning method at a time, as in PEFT`,
      { hint: `remove the ${otherName} adapter first` },
    );
  }
  return dict;
}

const activeOf = <T extends { active: boolean }>(root: Module, kind: abstract new (...args: never[]) => T): T[] =>
  encoderDict(root)
    .namedChildren()
    .map(([, m]) => m)
    .filter((m): m is T & Module => m instanceof kind && (m as T).active);

/**
 * Prefix tuning on a causal LM: one table [P, L·2·token_dim] under `prompt_encoder.<adapter>`;
 * layer l's keys are columns [2l·token_dim, (2l+1)·token_dim), its values the next token_dim
 * columns, each split into heads (PeftModel.get_prompt: view [B, P, 2L, H, hd], permute, split).
 * Several enabled adapters put their prefixes one after the other.
 */
export function applyPrefixTuningToCausalLm(
  root: Module,
  host: CausalLmPromptHost,
  config: PrefixTuningConfig,
  adapterName: string,
): AppliedAdapter {
  rejectTargets('prefix-tuning', config.target_modules, ['self_attn']);
  const dict = rejectOtherMethod(root, 'prefix-tuning', (m) => m instanceof PromptEmbedding, 'prompt-tuning');
  if (dict.has(adapterName))
    throw new MmftError('E_CONFIG', `the model already has a prompt-learning adapter "${adapterName}"; pick another adapter name`);
  const shape = causalLmPrefixShape(host, config);
  const path = `prompt_encoder.${adapterName}`;
  const encoder = () => root.getModule<CausalLmPrefixEncoder>(path);
  const refresh = () => {
    const active = activeOf(root, CausalLmPrefixEncoder);
    const total = active.reduce((n, e) => n + e.shape.numVirtualTokens, 0);
    host.setPromptSource(
      total === 0
        ? undefined
        : {
            kind: 'prefix',
            numVirtualTokens: total,
            keyValues: (batch) =>
              tf.tidy(() => {
                const tables = activeOf(root, CausalLmPrefixEncoder).map((e) => [e, e.forward()] as const);
                return Array.from({ length: shape.numLayers }, (_, layer) => {
                  const parts = tables.map(([e, table]) => e.layerPrefix(table, layer));
                  const join = (k: 'key' | 'value') =>
                    repeatBatch(
                      parts.length === 1
                        ? parts[0]![k]
                        : tf.concat(
                            parts.map((part) => part[k]),
                            2,
                          ),
                      batch,
                    );
                  return { key: join('key'), value: join('value') };
                });
              }),
          },
    );
  };
  const projectionHidden = config.prefix_projection ? (config.encoder_hidden_size ?? shape.tokenDim) : undefined;
  dict.registerModule(
    adapterName,
    new CausalLmPrefixEncoder(adapterName, shape, refresh, { projectionHidden, seed: config.seed, zero: config.init_weights === 'zero' }),
  );
  refresh();
  const trainableParameters = () => encoder().namedParameters(path);
  freezeAllExcept(
    root,
    trainableParameters().map(([, v]) => v),
  );
  let saved: tf.Tensor | undefined;
  return {
    adapterName,
    method: 'prefix-tuning',
    trainableParameters,
    adapterStateDict() {
      saved?.dispose();
      saved = encoder().projected ? encoder().forward() : undefined; // PEFT saves the MLP's output
      return new Map([['prompt_embeddings', saved ?? encoder().forward()]]);
    },
    loadAdapterStateDict(tensors) {
      const table = loadPromptEmbeddings(
        tensors,
        [shape.numVirtualTokens, shape.numLayers * 2 * shape.tokenDim],
        'prefix-tuning',
        adapterName,
      );
      const old = encoder();
      const fresh = new CausalLmPrefixEncoder(adapterName, shape, refresh, { table });
      fresh.active = old.active;
      root.getModule<AdapterDict>('prompt_encoder').setModule(adapterName, fresh);
      old.dispose();
      freezeAllExcept(
        root,
        trainableParameters().map(([, v]) => v),
      );
      refresh();
    },
    adapterConfigExtras: () => ({
      token_dim: shape.tokenDim,
      num_layers: shape.numLayers,
      num_attention_heads: shape.numHeads,
      encoder_hidden_size: config.encoder_hidden_size ?? shape.tokenDim,
    }),
    setEnabled: (enabled) => encoder().setAdapterActive(adapterName, enabled),
    remove() {
      saved?.dispose();
      encoder().dispose();
      root.setModule('prompt_encoder', encoderDict(root).without(adapterName));
      refresh();
    },
  };
}

/** Width of the input embeddings (what virtual tokens must match): embed_tokens' output. */
function embeddingWidth(host: CausalLmPromptHost): number {
  return tf.tidy(() => host.embedTokens(tf.zeros([1, 1], 'int32')).shape[2]!);
}

/**
 * Prompt tuning on a causal LM: virtual tokens [P, D] (PEFT's RANDOM init, N(0, 1)) prepended to
 * the input embeddings when a sequence starts; labels get P leading -100 and the logits cover
 * P + T positions, as PeftModelForCausalLM.forward returns them.
 */
export function applyPromptTuningToCausalLm(
  root: Module,
  host: CausalLmPromptHost,
  config: PromptTuningConfig,
  adapterName: string,
): AppliedAdapter {
  rejectTargets('prompt-tuning', config.target_modules, undefined);
  const dict = rejectOtherMethod(root, 'prompt-tuning', (m) => m instanceof CausalLmPrefixEncoder, 'prefix-tuning');
  if (dict.has(adapterName))
    throw new MmftError('E_CONFIG', `the model already has a prompt-learning adapter "${adapterName}"; pick another adapter name`);
  const tokenDim = embeddingWidth(host);
  checkModelField('prompt-tuning', 'token_dim', config.token_dim, tokenDim);
  checkModelField('prompt-tuning', 'num_layers', config.num_layers, host.numLayers);
  const heads = numberField(host.config, ['num_attention_heads', 'n_head', 'num_heads']);
  if (heads !== undefined) checkModelField('prompt-tuning', 'num_attention_heads', config.num_attention_heads, heads);
  const path = `prompt_encoder.${adapterName}`;
  const table = () => root.getModule<PromptEmbedding>(path);
  const refresh = () => {
    const total = activeOf(root, PromptEmbedding).reduce((n, e) => n + e.numVirtualTokens, 0);
    host.setPromptSource(
      total === 0
        ? undefined
        : {
            kind: 'prompt',
            numVirtualTokens: total,
            embeddings: (batch) =>
              tf.tidy(() => {
                const tokens = activeOf(root, PromptEmbedding).map((e) => e.forward());
                return repeatBatch(tf.expandDims(tokens.length === 1 ? tokens[0]! : tf.concat(tokens, 0), 0), batch);
              }),
          },
    );
  };
  dict.registerModule(
    adapterName,
    new PromptEmbedding(adapterName, config.num_virtual_tokens, tokenDim, { seed: config.seed, onChange: refresh }),
  );
  refresh();
  const trainableParameters = () => table().namedParameters(path);
  freezeAllExcept(
    root,
    trainableParameters().map(([, v]) => v),
  );
  return {
    adapterName,
    method: 'prompt-tuning',
    trainableParameters,
    adapterStateDict: () => new Map([['prompt_embeddings', table().forward()]]),
    loadAdapterStateDict(tensors) {
      const t = loadPromptEmbeddings(tensors, [config.num_virtual_tokens, tokenDim], 'prompt-tuning', adapterName);
      table().child<{ weight: tf.Variable } & Module>('embedding').weight.assign(t);
    },
    adapterConfigExtras: () => ({
      token_dim: tokenDim,
      num_layers: host.numLayers,
      ...(heads === undefined ? {} : { num_attention_heads: heads }),
    }),
    setEnabled: (enabled) => table().setAdapterActive(adapterName, enabled),
    remove() {
      table().dispose();
      root.setModule('prompt_encoder', encoderDict(root).without(adapterName));
      refresh();
    },
  };
}
