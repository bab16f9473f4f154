// Which trainable parameters get weight decay. Follows transformers' Trainer
// (trainer_pt_utils.get_parameter_names: parameters of LayerNorm modules and every "bias" are
// excluded) and open_clip (src/training/main.py: 1-D tensors and logit_scale are excluded), plus
// embeddings (decaying a lookup table shrinks rare tokens' rows only when they appear).
import type * as tf from '@tensorflow/tfjs-core';
import { Embedding, globToRegExp, LayerNorm, type Module } from '@mmft/core/nn';
import type { ParamEntry } from './adamw';

/** Dotted names of parameters owned by LayerNorm or Embedding modules anywhere in the tree. */
function normAndEmbeddingNames(root: Module): Set<string> {
  const names = new Set<string>();
  for (const [path, module] of root.namedModules()) {
    if (!(module instanceof LayerNorm) && !(module instanceof Embedding)) continue;
    for (const [name] of module.namedParameters(path)) names.add(name);
  }
  return names;
}

/** True when a parameter should not decay by the default rules or the recipe's extra globs. */
export function excludedFromDecay(name: string, variable: tf.Variable, structural: ReadonlySet<string>, extra: readonly RegExp[]): boolean {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return structural.has(name) || variable.rank < 2 || leaf === 'bias' || leaf.startsWith('logit_') || extra.some((re) => re.test(name));
}

/**
 * The optimizer's parameter list: trainable variables of `roots` (each under its prefix) with
 * their decay flag.
 *
 * @example
 * paramEntries([['', model.root], ['loss.', lossModule]], ['**.class_embedding']);
 */
export function paramEntries(
  sources: ReadonlyArray<{
    readonly prefix: string;
    readonly root?: Module;
    readonly params: ReadonlyArray<readonly [string, tf.Variable]>;
  }>,
  noDecayGlobs: readonly string[],
): ParamEntry[] {
  const extra = noDecayGlobs.map(globToRegExp);
  const out: ParamEntry[] = [];
  const seen = new Set<tf.Variable>();
  for (const source of sources) {
    const structural = source.root ? normAndEmbeddingNames(source.root) : new Set<string>();
    for (const [name, variable] of source.params) {
      if (!variable.trainable || seen.has(variable)) continue; // tied weights update once
      seen.add(variable);
      out.push({ name: `${source.prefix}${name}`, variable, decay: !excludedFromDecay(name, variable, structural, extra) });
    }
  }
  return out;
}
