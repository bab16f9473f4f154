// Prompt tuning (Lester et al. 2021) on any model whose text path declares a
// PromptInjectionPoint (core contracts/peft.ts): trainable virtual tokens [P, D] under
// `prompt_encoder.<adapter>.embedding.weight`, prepended by the architecture, which also widens
// the mask and shifts pooling. Saved as PEFT does: `prompt_embeddings` [P, D]
// (peft/tuners/prompt_tuning/model.py, peft/utils/save_and_load.py).
import * as tf from '@tensorflow/tfjs-core';
import {
  assertAdapterName,
  causalLmPromptHost,
  freezeAllExcept,
  isPromptInjectionPoint,
  matchesTarget,
  MmftError,
  type AppliedAdapter,
  type PromptInjectionPoint,
} from '@mmft/core';
import { repeatBatch, type Embedding, type Module } from '@mmft/core/nn';
import { applyPromptTuningToCausalLm } from './causal-lm';
import type { PromptTuningConfig } from './config';
import { PromptEmbedding } from './prompt-embedding';
import { checkModelField, encoderDict, loadPromptEmbeddings } from './shared';

function injectionPoints(root: Module, config: PromptTuningConfig): Array<[string, PromptInjectionPoint]> {
  const all = root.namedModules().filter((e): e is [string, Module & PromptInjectionPoint] => isPromptInjectionPoint(e[1]));
  const chosen = config.target_modules === undefined ? all : all.filter(([n]) => matchesTarget(n, config.target_modules!));
  if (chosen.length === 0) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `prompt-tuning: no module of this model ${all.length ? `matching target_modules ${JSON.stringify(config.target_modules)} ` : ''}implements PromptInjectionPoint` +
        (all.length ? `; those that do: ${all.map(([n]) => n || '(root)').join(', ')}` : ''),
      {
        hint: 'the architecture must declare where virtual tokens go (contracts/peft.ts PromptInjectionPoint); prefix-tuning works on any attention model instead',
      },
    );
  }
  return chosen;
}

/**
 * Applies prompt-tuning adapter `adapterName` to `root`.
 *
 * @example
 * const applied = applyPromptTuning(model.root, promptTuningSchema.parse({ num_virtual_tokens: 8 }), 'default');
 */
export function applyPromptTuning(root: Module, config: PromptTuningConfig, adapterName: string): AppliedAdapter {
  assertAdapterName(adapterName);
  const host = causalLmPromptHost(root);
  if (host) return applyPromptTuningToCausalLm(root, host, config, adapterName);
  const points = injectionPoints(root, config);
  const dims = new Set(points.map(([, p]) => p.promptTokenDim));
  if (dims.size > 1)
    throw new MmftError(
      'E_CONFIG',
      `prompt-tuning: the injection points differ in width (${[...dims].join(', ')}); narrow target_modules to one`,
    );
  const tokenDim = points[0]![1].promptTokenDim;
  checkModelField('prompt-tuning', 'token_dim', config.token_dim, tokenDim);
  const dict = encoderDict(root);
  if (dict.has(adapterName))
    throw new MmftError('E_CONFIG', `the model already has a prompt-learning adapter "${adapterName}"; pick another adapter name`);
  const path = `prompt_encoder.${adapterName}`;
  const table = () => root.getModule<PromptEmbedding>(path);
  // Every enabled prompt adapter contributes its tokens, in the order they were added.
  const source = (batch: number) =>
    tf.tidy(() => {
      const active = encoderDict(root)
        .namedChildren()
        .map(([, m]) => m)
        .filter((m): m is PromptEmbedding => m instanceof PromptEmbedding && m.active);
      const tokens =
        active.length === 1
          ? active[0]!.forward()
          : tf.concat(
              active.map((m) => m.forward()),
              0,
            );
      return repeatBatch(tf.expandDims(tokens, 0), batch);
    });
  const anyActive = () =>
    encoderDict(root)
      .namedChildren()
      .some(([, m]) => m instanceof PromptEmbedding && m.active);
  const refresh = () => points.forEach(([, p]) => p.setPromptSource(anyActive() ? source : undefined));
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
      table().child<Embedding>('embedding').weight.assign(t);
    },
    adapterConfigExtras: () => ({ token_dim: tokenDim }),
    setEnabled: (enabled) => table().setAdapterActive(adapterName, enabled),
    remove() {
      table().dispose();
      root.setModule('prompt_encoder', encoderDict(root).without(adapterName));
      refresh();
    },
  };
}
