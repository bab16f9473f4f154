// Applying prefix tuning: on a causal LM at the model level (causal-lm.ts); on any other model with
// MultiHeadAttention modules chosen by name: one
// PrefixEncoder per adapter under `prompt_encoder.<adapter>` (PEFT's in-model name) and a
// PrefixAttention wrapper per targeted layer. Saved as PEFT saves it: `prompt_embeddings`
// [P, L·2·D] (peft/utils/save_and_load.py); loaded into a plain table (PEFT's inference mode).
import * as tf from '@tensorflow/tfjs-core';
import {
  AdapterDict,
  assertAdapterName,
  causalLmPromptHost,
  findTargetModules,
  freezeAllExcept,
  MmftError,
  type AppliedAdapter,
} from '@mmft/core';
import { MultiHeadAttention, type Module } from '@mmft/core/nn';
import { applyPrefixTuningToCausalLm } from './causal-lm';
import type { PrefixTuningConfig } from './config';
import { PrefixEncoder } from './prefix-encoder';
import { PrefixAttention } from './prefix-layer';
import { checkModelField, encoderDict, loadPromptEmbeddings } from './shared';

const isAttention = (m: unknown): m is MultiHeadAttention => m instanceof MultiHeadAttention || m instanceof PrefixAttention;

/**
 * Applies prefix-tuning adapter `adapterName` to `root`.
 *
 * @example
 * const applied = applyPrefixTuning(model.root, prefixTuningSchema.parse({ num_virtual_tokens: 10, target_modules: 'text_model\\..*self_attn' }), 'default');
 */
export function applyPrefixTuning(root: Module, config: PrefixTuningConfig, adapterName: string): AppliedAdapter {
  assertAdapterName(adapterName);
  const host = causalLmPromptHost(root);
  if (host) return applyPrefixTuningToCausalLm(root, host, config, adapterName);
  const targets = findTargetModules(root, config.target_modules, {
    method: 'prefix-tuning',
    accept: isAttention,
    acceptedKind: 'MultiHeadAttention',
    skip: (n) => n.startsWith('prompt_encoder'),
  });
  const attention = (m: unknown) => (m instanceof PrefixAttention ? m.inner<MultiHeadAttention>() : (m as MultiHeadAttention));
  const dims = new Set(targets.map(([, m]) => `${attention(m).embedDim}/${attention(m).numHeads}`));
  if (dims.size > 1) {
    throw new MmftError(
      'E_CONFIG',
      `prefix-tuning: the targeted attention modules differ in width/heads (${[...dims].join(', ')}); one prefix table needs one shape`,
      {
        hint: 'narrow target_modules to one stack, e.g. "text_model\\\\..*self_attn"',
      },
    );
  }
  const first = attention(targets[0]![1]);
  const shape = {
    numVirtualTokens: config.num_virtual_tokens,
    numLayers: targets.length,
    tokenDim: first.embedDim,
    numHeads: first.numHeads,
  };
  checkModelField('prefix-tuning', 'token_dim', config.token_dim, shape.tokenDim);
  checkModelField('prefix-tuning', 'num_layers', config.num_layers, shape.numLayers);
  checkModelField('prefix-tuning', 'num_attention_heads', config.num_attention_heads, shape.numHeads);
  const encoderPath = `prompt_encoder.${adapterName}`;
  const dict = encoderDict(root);
  if (dict.has(adapterName))
    throw new MmftError('E_CONFIG', `the model already has a prompt-learning adapter "${adapterName}"; pick another adapter name`);
  dict.registerModule(
    adapterName,
    new PrefixEncoder(shape, {
      projectionHidden: config.prefix_projection ? (config.encoder_hidden_size ?? shape.tokenDim) : undefined,
      seed: config.seed,
      zero: config.init_weights === 'zero',
    }),
  );
  const encoder = () => root.getModule<PrefixEncoder>(encoderPath);
  const paths = targets.map(([path, module], layer) => {
    const wrapper = module instanceof PrefixAttention ? module : new PrefixAttention(module);
    wrapper.addSource(adapterName, encoder, layer);
    if (wrapper !== module) root.setModule(path, wrapper);
    return path;
  });
  const wrappers = () => paths.map((p) => root.getModule<PrefixAttention>(p));
  const trainableParameters = () => encoder().namedParameters(encoderPath);
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
      root.getModule<AdapterDict>('prompt_encoder').setModule(adapterName, new PrefixEncoder(shape, { table }));
      old.dispose();
      freezeAllExcept(
        root,
        trainableParameters().map(([, v]) => v),
      );
    },
    adapterConfigExtras: () => ({ token_dim: shape.tokenDim, num_layers: shape.numLayers, num_attention_heads: shape.numHeads }),
    setEnabled: (enabled) => wrappers().forEach((w) => w.setAdapterActive(adapterName, enabled)),
    remove() {
      for (const [i, w] of wrappers().entries()) {
        w.removeSource(adapterName);
        if (w.peftAdapterNames.length === 0) root.setModule(paths[i]!, w.inner());
      }
      saved?.dispose();
      encoder().dispose();
      root.setModule('prompt_encoder', root.getModule<AdapterDict>('prompt_encoder').without(adapterName));
    },
  };
}
