// Injecting LoRA into any module tree: find the target Linears (and GPT-2 Conv1Ds) by name, wrap
// each in a LoraLinear (or add an adapter to one already wrapped), set up bias and modules_to_save,
// freeze the rest. Follows LoraModel in peft/tuners/lora/model.py, BaseTuner.inject_adapter /
// _maybe_include_all_linear_layers in peft/tuners/tuners_utils.py (Linear and Conv1D both count as
// linear), and dispatch_default in peft/tuners/lora/layer.py for fan_in_fan_out.
import type * as tf from '@tensorflow/tfjs-core';
import {
  adapterStateDictOf,
  applyModulesToSave,
  assertAdapterName,
  findTargetModules,
  freezeAllExcept,
  isPeftLayer,
  isInsideModules,
  loadAdapterTensors,
  matchesTarget,
  MIN_TARGETS_FOR_CONDENSING,
  minimalTargetModules,
  MmftError,
  type AppliedAdapter,
  type TargetModules,
} from '@mmft/core';
import { Conv1D, deriveSeed, Linear, type AnyModule, type Module } from '@mmft/core/nn';
import { loraScaling, type LoraConfig } from './config';
import { LoraLinear } from './layer';

/** Segments inside PEFT wrappers that are never targets themselves. */
const WRAPPER_INTERNALS = /(^|\.)(base_layer|lora_A|lora_B|lora_dropout|original_module|modules_to_save)(\.|$)/;

/** Modules LoRA can wrap: a Linear, a Conv1D (weight [in, out]), or one it has wrapped already. */
const isLoraTarget = (m: AnyModule) => m instanceof Linear || m instanceof Conv1D || m instanceof LoraLinear;

/**
 * PEFT's dispatch_default (peft/tuners/lora/layer.py) corrects fan_in_fan_out per target with a
 * warning: true on a Linear becomes false. Here the layout always follows the module (a Conv1D is
 * [in, out], a Linear [out, in]), so only a Linear under fan_in_fan_out: true is worth a warning;
 * a Conv1D under the default false is what every GPT-2 recipe writes, and is silently right.
 */
function warnFanInFanOut(config: LoraConfig, targets: ReadonlyArray<readonly [string, AnyModule]>): void {
  if (!config.fan_in_fan_out) return;
  const linears = targets.filter(([, m]) => (m instanceof LoraLinear ? m.baseLayer : m) instanceof Linear).map(([n]) => n);
  if (linears.length === 0) return;
  process.emitWarning(
    `lora: fan_in_fan_out is true but ${linears.slice(0, 3).join(', ')}${linears.length > 3 ? ', …' : ''} ` +
      `${linears.length === 1 ? 'is a' : 'are'} Linear (weight [out, in]); using fan_in_fan_out false for ` +
      `${linears.length === 1 ? 'it' : 'them'}, as PEFT does. Set fan_in_fan_out only for Conv1D (GPT-2) targets, or leave it out.`,
    { code: 'MMFT_LORA_FAN_IN_FAN_OUT' },
  );
}

/**
 * PEFT's "all-linear" (`_maybe_include_all_linear_layers`, peft/tuners/tuners_utils.py): the full
 * names of every Linear and Conv1D except the output layer (lm_head in Hugging Face LMs, at any
 * depth, e.g. a LLaVA's language_model.lm_head) and the insides of PEFT wrappers. Full names, not
 * local ones, so a module_to_save's own Linears stay out even when a Linear elsewhere shares the
 * local name.
 */
function allLinearNames(root: Module): string[] {
  const isOutputLayer = (n: string) => /(^|\.)lm_head$/.test(n);
  const names = root.namedModules().filter(([n, m]) => n !== '' && isLoraTarget(m) && !WRAPPER_INTERNALS.test(n) && !isOutputLayer(n));
  return names.map(([n]) => n);
}

/**
 * The target_modules adapter_config.json records. PEFT rewrites "all-linear" into the names it
 * selected before saving, condensed to the shortest distinguishing suffixes when there are at
 * least 20 (inject_adapter + `_find_minimal_target_modules`, peft/tuners/tuners_utils.py); the
 * file then loads with the same targets under PEFT and here.
 */
function savedTargetModules(root: Module, config: LoraConfig): TargetModules {
  if (config.target_modules !== 'all-linear') return config.target_modules;
  const full = allLinearNames(root);
  if (full.length < MIN_TARGETS_FOR_CONDENSING) return [...full].sort();
  const chosen = new Set(full);
  const others = root
    .namedModules()
    .map(([n]) => n)
    .filter((n) => !chosen.has(n));
  return minimalTargetModules(full, others);
}

/** PEFT's exclude_modules (`check_target_module_exists`): a full-match regex, or names / name suffixes. */
function isExcluded(name: string, exclude: LoraConfig['exclude_modules']): boolean {
  if (exclude === null) return false;
  return matchesTarget(name, exclude);
}

/**
 * Applies LoRA adapter `adapterName` to `root`; see AppliedAdapter for what the result can do.
 *
 * @example
 * const applied = applyLora(model.root, loraConfigSchema.parse({ r: 4, target_modules: ['q_proj', 'v_proj'] }), 'default');
 */
export function applyLora(root: Module, config: LoraConfig, adapterName: string): AppliedAdapter {
  assertAdapterName(adapterName);
  // A module trained fully (modules_to_save) gets no LoRA on it or inside it, as in PEFT.
  const excluded = (name: string) =>
    WRAPPER_INTERNALS.test(name) || isInsideModules(name, config.modules_to_save) || isExcluded(name, config.exclude_modules);
  const allLinear = config.target_modules === 'all-linear' ? allLinearNames(root).filter((n) => !excluded(n)) : undefined;
  if (allLinear?.length === 0) {
    throw new MmftError(
      'E_CONFIG',
      'lora: target_modules "all-linear" finds no Linear or Conv1D outside lm_head, modules_to_save and exclude_modules',
      { hint: 'name the modules to adapt in target_modules, or take them out of modules_to_save / exclude_modules' },
    );
  }
  const savedTargets = savedTargetModules(root, config);
  const targets = findTargetModules(root, allLinear ?? (config.target_modules as TargetModules), {
    method: 'lora',
    accept: isLoraTarget,
    acceptedKind: 'Linear or Conv1D',
    skip: excluded,
  });
  warnFanInFanOut(config, targets);
  const paths: string[] = [];
  for (const [path, module] of targets) {
    const layer = module instanceof LoraLinear ? module : new LoraLinear(module as Linear | Conv1D);
    layer.addAdapter(adapterName, {
      r: config.r,
      scaling: loraScaling(config),
      dropout: config.lora_dropout,
      init: config.init_lora_weights,
      seed: deriveSeed(config.seed, `${path}.${adapterName}`),
    });
    if (layer !== module) root.setModule(path, layer);
    paths.push(path);
  }
  const layers = () => paths.map((p) => root.getModule<LoraLinear>(p));
  const biases: tf.Variable[] =
    config.bias === 'all'
      ? root
          .namedParameters()
          .filter(([n]) => n.endsWith('.bias') || n === 'bias')
          .map(([, v]) => v)
      : config.bias === 'lora_only'
        ? layers().flatMap((l) => (l.baseLayer.bias ? [l.baseLayer.bias] : []))
        : [];
  const saved = applyModulesToSave(root, config.modules_to_save ?? undefined, adapterName, 'lora');
  const own = new Set<tf.Variable>([
    ...layers().flatMap((l) => [l.child('lora_A').child(adapterName), l.child('lora_B').child(adapterName)].map((m) => m.param('weight'))),
    ...biases,
    ...[...saved.copies.values()].flatMap((m) => m.namedParameters().map(([, v]) => v)),
  ]);
  // Names are read from the tree at call time, so later wrapping (another adapter) is reflected.
  const trainableParameters = () => root.namedParameters().filter(([, v]) => own.has(v));
  freezeAllExcept(root, own);
  let merged = false;
  const setEnabled = (enabled: boolean) => {
    for (const l of layers()) l.setAdapterActive(adapterName, enabled);
    for (const p of saved.copies.keys()) {
      const wrapper = root.getModule(p);
      if (isPeftLayer(wrapper)) wrapper.setAdapterActive(adapterName, enabled);
    }
  };
  return {
    adapterName,
    method: 'lora',
    trainableParameters,
    adapterStateDict: () => adapterStateDictOf(trainableParameters(), adapterName),
    loadAdapterStateDict: (tensors) =>
      loadAdapterTensors(trainableParameters(), tensors, {
        adapterName,
        method: 'lora',
        adapterOwners: ['lora_A', 'lora_B'],
        savedModules: [...saved.copies.keys()],
      }),
    setEnabled,
    // PEFT writes the fan_in_fan_out its dispatch settled on: true when the targets are Conv1D.
    adapterConfigExtras: () => ({ target_modules: savedTargets, fan_in_fan_out: layers().some((l) => l.fanInFanOut) }),
    merge: () => {
      layers().forEach((l) => l.merge(adapterName));
      merged = true;
    },
    unmerge: () => {
      layers().forEach((l) => l.unmerge(adapterName));
      merged = false;
    },
    // After merge, remove() is PEFT's merge_and_unload: the trained modules_to_save copies take the
    // originals' places (ModulesToSaveWrapper.unload_and_optionally_merge_module, peft/utils/other.py), so a merged
    // checkpoint keeps the trained projector or head.
    remove() {
      for (const [i, layer] of layers().entries()) {
        layer.removeAdapter(adapterName);
        if (layer.peftAdapterNames.length === 0) root.setModule(paths[i]!, layer.baseLayer);
      }
      saved.remove({ keepTrained: merged });
    },
  };
}
