// Which weights train under PEFT: everything frozen except the adapter's parameters (PEFT's
// `_mark_only_adapters_as_trainable`, tuners/tuners_utils.py), and the one-line summary PEFT's
// `print_trainable_parameters` prints (peft_model.py). Frozen variables get no gradient and no
// optimizer state, because trainers build their var lists from `trainable` flags.
import type { Variable } from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module';

/** Counts of `describeTrainable`. */
export interface TrainableSummary {
  readonly trainable: number;
  readonly total: number;
  /** 100 · trainable / total. */
  readonly percent: number;
  /** `trainable params: 1,234 || all params: 5,678 || trainable%: 21.7324`, as PEFT prints it. */
  readonly line: string;
}

/**
 * Marks every parameter of `root` frozen except `keep` (which are marked trainable).
 *
 * @example
 * freezeAllExcept(model.root, applied.trainableParameters().map(([, v]) => v));
 */
export function freezeAllExcept(root: Module, keep: Iterable<Variable>): void {
  const kept = new Set(keep);
  for (const [, variable] of root.namedParameters()) variable.trainable = kept.has(variable);
  for (const variable of kept) variable.trainable = true;
}

/**
 * Trainable and total scalar weights (tied weights once), formatted as PEFT's
 * print_trainable_parameters.
 *
 * @example
 * console.log(describeTrainable(model.root).line);
 * // trainable params: 2,048 || all params: 151,279,617 || trainable%: 0.0014
 */
export function describeTrainable(root: Module): TrainableSummary {
  const total = root.parameterCount();
  const trainable = root.parameterCount({ trainableOnly: true });
  const percent = total === 0 ? 0 : (100 * trainable) / total;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return {
    trainable,
    total,
    percent,
    line: `trainable params: ${fmt(trainable)} || all params: ${fmt(total)} || trainable%: ${percent.toFixed(4)}`,
  };
}
