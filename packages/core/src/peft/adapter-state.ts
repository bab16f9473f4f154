// Moving an adapter's parameters to and from PEFT-named tensors (peft/utils/save_and_load.py:
// get_peft_model_state_dict / set_peft_model_state_dict), with the checks PEFT leaves to
// warnings made strict: an unknown key, a missing key or a wrong shape fails and names it.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { listNames } from '../nn/naming';
import { fromPeftKey, toPeftKey } from './peft-keys';

/**
 * PEFT-keyed views of `params` (tree name → variable) for adapter `adapterName`.
 *
 * @example
 * adapterStateDictOf([['x.q_proj.lora_A.default.weight', v]], 'default'); // Map { 'base_model.model.x.q_proj.lora_A.weight' => v }
 */
export function adapterStateDictOf(params: ReadonlyArray<readonly [string, tf.Variable]>, adapterName: string): Map<string, tf.Tensor> {
  return new Map(params.map(([name, v]) => [toPeftKey(name, adapterName), v as tf.Tensor] as const));
}

/** Options of `loadAdapterTensors`. */
export interface LoadAdapterTensorsOptions {
  readonly adapterName: string;
  readonly method: string;
  /** Segments after which PEFT inserts the adapter name (`lora_A`, `adapter_down`...). */
  readonly adapterOwners: readonly string[];
  /** modules_to_save paths. */
  readonly savedModules?: readonly string[];
}

/**
 * Assigns PEFT-keyed `tensors` to `params` (tree name → variable). All keys are checked before
 * anything is assigned: unknown, missing and mis-shaped keys are one E_CHECKPOINT error.
 *
 * @example
 * loadAdapterTensors(applied.params, tensors, { adapterName: 'default', method: 'lora', adapterOwners: ['lora_A', 'lora_B'] });
 */
export function loadAdapterTensors(
  params: ReadonlyArray<readonly [string, tf.Variable]>,
  tensors: ReadonlyMap<string, tf.Tensor>,
  options: LoadAdapterTensorsOptions,
): void {
  const byName = new Map(params);
  const wanted = new Map(params.map(([name]) => [toPeftKey(name, options.adapterName), name] as const));
  const unknown: string[] = [];
  const wrongShape: string[] = [];
  for (const [key, t] of tensors) {
    const name = wanted.get(key) ?? fromPeftKey(key, options.adapterName, options);
    const variable = byName.get(name);
    if (!variable) unknown.push(key);
    else if (!tf.util.arraysEqual(variable.shape, t.shape)) wrongShape.push(`${key}: expected [${variable.shape}], got [${t.shape}]`);
  }
  const given = new Set(tensors.keys());
  const missing = [...wanted.keys()].filter((key) => !given.has(key));
  if (unknown.length + wrongShape.length + missing.length > 0) {
    const lines = [`${options.method} adapter "${options.adapterName}": the adapter tensors do not fit the model`];
    if (unknown.length) lines.push(`  unknown keys (${unknown.length}): ${listNames(unknown, 10)}`);
    if (missing.length) lines.push(`  missing keys (${missing.length}): ${listNames(missing, 10)}`);
    if (wrongShape.length) lines.push(`  wrong shape (${wrongShape.length}): ${listNames(wrongShape, 10)}`);
    // A modules_to_save copy of a Linear held in 4 bits has no float32 weight to take the saved one.
    const saved = options.savedModules ?? [];
    const savedUnknown = unknown.some((key) => key.endsWith('.weight') && saved.some((m) => key.includes(`.${m}.`)));
    throw new MmftError('E_CHECKPOINT', lines.join('\n'), {
      hint: savedUnknown
        ? `a modules_to_save module (${saved.join(', ')}) may be held in 4 bits here (a 4-bit checkpoint, model.quantization or --load-in-4bit), ` +
          'so its copy has no float32 weight for the adapter: keep it float32 (quantization skip_modules, mmft quantize --skip), or load the float32 base'
        : 'was the adapter made for this base model and with the same target_modules / r? Keys follow PEFT: base_model.model.<module>.<param>',
    });
  }
  for (const [key, t] of tensors) {
    const variable = byName.get(wanted.get(key) ?? fromPeftKey(key, options.adapterName, options))!;
    variable.assign(t.dtype === variable.dtype ? t : tf.cast(t, variable.dtype));
  }
}
