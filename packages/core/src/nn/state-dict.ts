// Loading a name → tensor map into a module's variables, as torch.nn.Module.load_state_dict
// (torch/nn/modules/module.py) does: everything is checked first and nothing is assigned unless
// the whole load can succeed, so a failed load never leaves a half-updated model.

import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { listNames } from './naming';

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /** Throw on missing or unexpected names (default true). Mis-shaped tensors always throw. */
  strict?: boolean;
}

/** What a non-strict load skipped. */
export interface LoadStateDictResult {
  /** Parameters of the module that the source did not provide (left unchanged). */
  missing: string[];
  /** Names in the source that the module has no parameter for (ignored). */
  unexpected: string[];
}

/** A state dict as a Map or a plain object. */
export type StateDictInput = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

/**
 * Where loaded values come from: their shapes up front (for checking) and each tensor on demand,
 * so a loader from disk only materialises the tensors the model will keep. A tensor that `get`
 * creates is disposed right after its assignment; one it merely returns is left alone.
 */
export interface StateDictSource {
  shapes: ReadonlyMap<string, readonly number[]>;
  get(name: string): tf.Tensor;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A StateDictSource as is, or one over tensors the caller already holds. */
export function toStateDictSource(input: StateDictInput | StateDictSource): StateDictSource {
  // A plain-object state dict could have a tensor named "shapes", but never a Map under it.
  if (!(input instanceof Map) && (input as Partial<StateDictSource>).shapes instanceof Map) return input as StateDictSource;
  const entries = new Map<string, tf.Tensor>(input instanceof Map ? input : Object.entries(input as StateDictInput));
  return { shapes: new Map([...entries].map(([name, t]) => [name, t.shape])), get: (name) => entries.get(name)! };
}

/** Assigns `source` into `target` (a module's stateDict) by name; see LoadStateDictOptions. */
export function loadStateDictInto(
  target: ReadonlyMap<string, tf.Variable>,
  source: StateDictSource,
  options: LoadStateDictOptions,
  owner: string,
): LoadStateDictResult {
  const strict = options.strict ?? true;
  const missing = [...target.keys()].filter((name) => !source.shapes.has(name));
  const unexpected = [...source.shapes.keys()].filter((name) => !target.has(name));
  const misShaped: string[] = [];
  for (const [name, variable] of target) {
    const shape = source.shapes.get(name);
    if (shape && !tf.util.arraysEqual([...shape], variable.shape)) {
      misShaped.push(`${name}: expected ${shapeText(variable.shape)}, got ${shapeText(shape)}`);
    }
  }
  if (misShaped.length > 0 || (strict && missing.length + unexpected.length > 0)) {
    const lines = [`${owner}.loadStateDict: the checkpoint does not fit the model`];
    if (missing.length) lines.push(`  missing (${missing.length}): ${listNames(missing)}`);
    if (unexpected.length) lines.push(`  unexpected (${unexpected.length}): ${listNames(unexpected)}`);
    if (misShaped.length) lines.push(`  wrong shape (${misShaped.length}): ${listNames(misShaped, 10)}`);
    throw new MmftError('E_CHECKPOINT', lines.join('\n'), {
      hint: misShaped.length
        ? 'the checkpoint was made for a model of another size: check config.json against the weights'
        : 'pass { strict: false } to load a partial checkpoint (e.g. a backbone without its head)',
    });
  }
  for (const [name, variable] of target) {
    if (!source.shapes.has(name)) continue;
    // One tidy per tensor frees what `get` created as soon as the variable holds its data.
    tf.tidy(() => {
      const tensor = source.get(name);
      // Assigning a variable to itself would free its data before re-referencing it.
      if (tensor === variable) return;
      variable.assign(tensor.dtype === variable.dtype ? tensor : tf.cast(tensor, variable.dtype));
    });
  }
  return { missing, unexpected };
}
