// Which trainable parameters get weight decay. Follows transformers' Trainer
// (trainer_pt_utils.get_parameter_names: parameters of LayerNorm modules and every "bias" are
// excluded) and open_clip (src/training/main.py: 1-D tensors and logit_scale are excluded), plus
// embeddings (decaying a lookup table shrinks rare tokens' rows only when they appear).
import type * as tf from '@tensorflow/tfjs-core';
import { expandTowers, MmftError, type ModelTowers } from '@mmft/core';
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

/** One `train.lr_groups` entry. */
export interface LrGroup {
  readonly params: string | readonly string[];
  readonly lr: number;
}

/**
 * `entries` with each parameter's lrScale set to (its group's lr / `baseLr`): the first group whose
 * towers or globs match the name wins, the rest keep train.lr. This is LLaVA's mm_projector_lr
 * (llava/train/llava_trainer.py create_optimizer: projector parameters in their own AdamW param
 * groups, split by weight decay as the rest) generalised to any tower. A group matching no
 * trainable parameter is an E_CONFIG error: a misspelt or frozen group would silently train at
 * train.lr otherwise.
 *
 * @example
 * withLrGroups(params, [{ params: 'projector', lr: 2e-5 }], 2e-4, model.processor.towers); // projector lrScale 0.1
 */
export function withLrGroups(
  entries: readonly ParamEntry[],
  groups: readonly LrGroup[],
  baseLr: number,
  towers: ModelTowers,
): ParamEntry[] {
  if (groups.length === 0) return [...entries];
  const matchers = groups.map((g) => {
    const globs = expandTowers(typeof g.params === 'string' ? [g.params] : g.params, towers);
    const res = globs.map(globToRegExp);
    return (name: string) => res.some((re) => re.test(name));
  });
  const used = groups.map(() => false);
  const out = entries.map((entry) => {
    const index = matchers.findIndex((m) => m(entry.name));
    if (index < 0) return entry;
    used[index] = true;
    return { ...entry, lrScale: groups[index]!.lr / baseLr };
  });
  const unused = used.flatMap((u, i) => (u ? [] : [i]));
  if (unused.length > 0) {
    const i = unused[0]!;
    const known = Object.keys(towers);
    throw new MmftError(
      'E_CONFIG',
      `train.lr_groups[${i}].params ${JSON.stringify(groups[i]!.params)} matches no trainable parameter` +
        (groups.slice(0, i).some((_, j) => used[j]) ? ' (parameters it names may all be taken by an earlier group)' : '') +
        `; towers of this model: ${known.length > 0 ? known.join(', ') : '(none)'}; trainable e.g. ${entries
          .slice(0, 3)
          .map((e) => e.name)
          .join(', ')}`,
      {
        hint:
          'name a tower the model declares or a glob over trainable parameter names (e.g. "multi_modal_projector.**"), ' +
          'and check it is not frozen',
      },
    );
  }
  return out;
}
