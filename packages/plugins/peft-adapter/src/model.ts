// Inserting bottleneck adapters into any transformer by module name: Houlsby wraps the attention
// blocks and the MLP blocks, Pfeiffer the MLP blocks only; everything else is frozen. Targeting
// follows PEFT's rules (tuners_utils.py); the adapter layout follows adapter-transformers.
import type * as tf from '@tensorflow/tfjs-core';
import {
  adapterStateDictOf,
  applyModulesToSave,
  assertAdapterName,
  findTargetModules,
  isInsideModules,
  freezeAllExcept,
  isPeftLayer,
  loadAdapterTensors,
  type AppliedAdapter,
} from '@mmft/core';
import { deriveSeed, type Module } from '@mmft/core/nn';
import type { BottleneckConfig } from './config';
import { blockWidth, BottleneckWrapper } from './layer';

const INTERNALS = /(^|\.)(adapter_down|adapter_up|original_module|modules_to_save|base_layer|lora_A|lora_B|lora_dropout)(\.|$)/;

/**
 * Applies bottleneck adapter `adapterName` to `root`.
 *
 * @example
 * const applied = applyBottleneck(model.root, adapterConfigSchema.parse({ variant: 'houlsby', reduction_factor: 16 }), 'default');
 */
export function applyBottleneck(root: Module, config: BottleneckConfig, adapterName: string): AppliedAdapter {
  assertAdapterName(adapterName);
  const find = (target: readonly string[] | string, what: string) =>
    findTargetModules(root, target, {
      method: `adapter ${what}`,
      // a module trained fully (modules_to_save) gets no adapter on it or inside it, as in PEFT
      skip: (n) => INTERNALS.test(n) || isInsideModules(n, config.modules_to_save),
    });
  const targets = [
    ...(config.variant === 'houlsby' ? find(config.attention_modules, 'attention_modules') : []),
    ...find(config.mlp_modules, 'mlp_modules'),
  ];
  const paths: string[] = [];
  for (const [path, module] of targets) {
    const wrapper = module instanceof BottleneckWrapper ? module : new BottleneckWrapper(module);
    const hidden = config.hidden_size ?? blockWidth(module, path);
    const bottleneck = Math.max(1, Math.round(hidden / config.reduction_factor));
    wrapper.addAdapter(adapterName, {
      hidden,
      bottleneck,
      activation: config.non_linearity,
      seed: deriveSeed(config.seed, `${path}.${adapterName}`),
    });
    if (wrapper !== module) root.setModule(path, wrapper);
    paths.push(path);
  }
  const wrappers = () => paths.map((p) => root.getModule<BottleneckWrapper>(p));
  const saved = applyModulesToSave(root, config.modules_to_save ?? undefined, adapterName, 'adapter');
  const own = new Set<tf.Variable>([
    ...wrappers().flatMap((w) =>
      ['adapter_down', 'adapter_up'].flatMap((d) =>
        w
          .child(d)
          .child(adapterName)
          .namedParameters()
          .map(([, v]) => v),
      ),
    ),
    ...[...saved.copies.values()].flatMap((m) => m.namedParameters().map(([, v]) => v)),
  ]);
  const trainableParameters = () => root.namedParameters().filter(([, v]) => own.has(v));
  freezeAllExcept(root, own);
  return {
    adapterName,
    method: 'adapter',
    trainableParameters,
    adapterStateDict: () => adapterStateDictOf(trainableParameters(), adapterName),
    loadAdapterStateDict: (tensors) =>
      loadAdapterTensors(trainableParameters(), tensors, {
        adapterName,
        method: 'adapter',
        adapterOwners: ['adapter_down', 'adapter_up'],
        savedModules: [...saved.copies.keys()],
      }),
    setEnabled(enabled) {
      for (const w of wrappers()) w.setAdapterActive(adapterName, enabled);
      for (const p of saved.copies.keys()) {
        const m = root.getModule(p);
        if (isPeftLayer(m)) m.setAdapterActive(adapterName, enabled);
      }
    },
    remove() {
      for (const [i, w] of wrappers().entries()) {
        w.removeAdapter(adapterName);
        if (w.peftAdapterNames.length === 0) root.setModule(paths[i]!, w.inner());
      }
      saved.remove();
    },
  };
}
