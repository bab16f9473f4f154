// Which modules an adapter wraps, with Hugging Face PEFT's semantics
// (peft/tuners/tuners_utils.py `check_target_module_exists`): a list of keys matches a module
// whose dotted name equals a key or ends with "." + key; a string is a regex that must match the
// whole dotted name (`re.fullmatch`). A pattern that matches nothing is an error with close names.
import { MmftError } from '../errors';
import type { AnyModule, Module } from '../nn/module';
import { closestNames } from '../registry/names';

/** PEFT's `target_modules`: name suffixes, or one regex over the full dotted name. */
export type TargetModules = readonly string[] | string;

/** Options of `findTargetModules`. */
export interface FindTargetsOptions {
  /** Who asks, for messages ("lora", "adapter"). */
  readonly method: string;
  /** Only modules passing this test are targets (e.g. `m instanceof Linear`). */
  readonly accept?: (module: AnyModule) => boolean;
  /** What `accept` wants, for messages ("Linear"). */
  readonly acceptedKind?: string;
  /** Module names never to target (e.g. wrappers' own children). */
  readonly skip?: (name: string) => boolean;
}

/**
 * True when `name` is a target under PEFT's rules.
 *
 * @example
 * matchesTarget('text_model.encoder.layers.0.self_attn.q_proj', ['q_proj']); // true
 * matchesTarget('vision_model.encoder.layers.0.self_attn.q_proj', 'text_model\\..*q_proj'); // false
 */
export function matchesTarget(name: string, target: TargetModules): boolean {
  if (typeof target === 'string') return new RegExp(`^(?:${target})$`).test(name);
  return target.some((key) => name === key || name.endsWith(`.${key}`));
}

function describeTarget(target: TargetModules): string {
  return typeof target === 'string' ? `regex ${JSON.stringify(target)}` : `[${target.map((t) => JSON.stringify(t)).join(', ')}]`;
}

/**
 * The modules of `root` that `target` selects, in tree order. Matching nothing, a list key that
 * matches nothing, or a match of the wrong kind is an E_CONFIG error naming the closest modules.
 *
 * @example
 * findTargetModules(model.root, ['q_proj', 'v_proj'], { method: 'lora', accept: (m) => m instanceof Linear });
 */
export function findTargetModules(root: Module, target: TargetModules, options: FindTargetsOptions): Array<[string, AnyModule]> {
  const named = root.namedModules().filter(([name]) => name !== '' && !(options.skip?.(name) ?? false));
  const names = named.map(([name]) => name);
  const localNames = [...new Set(names.map((n) => n.slice(n.lastIndexOf('.') + 1)))];
  const noMatch = (what: string): MmftError =>
    new MmftError(
      'E_CONFIG',
      `${options.method}: target_modules ${what} matches no module of the model; ` +
        `closest module names: ${closestNames(what.replace(/^"|"$/g, ''), localNames).join(', ')}; ` +
        `e.g. ${names.slice(-3).join(', ')}`,
      { hint: 'list name suffixes (["q_proj", "v_proj"]) or give one regex matched on the full dotted name' },
    );
  if (Array.isArray(target)) {
    // A key naming only skipped modules (e.g. a modules_to_save Linear listed by a PEFT-written
    // all-linear config) is no error: PEFT excludes such modules quietly.
    const everyName = root.namedModules().map(([name]) => name);
    for (const key of target as readonly string[]) if (!everyName.some((n) => matchesTarget(n, [key]))) throw noMatch(JSON.stringify(key));
  }
  const hits = named.filter(([name]) => matchesTarget(name, target));
  if (hits.length === 0) throw noMatch(typeof target === 'string' ? target : describeTarget(target));
  if (options.accept) {
    const wrong = hits.filter(([, m]) => !options.accept!(m));
    if (wrong.length > 0) {
      const list = wrong
        .slice(0, 5)
        .map(([n, m]) => `${n} (${m.constructor.name})`)
        .join(', ');
      throw new MmftError(
        'E_CONFIG',
        `${options.method}: target_modules ${describeTarget(target)} selects modules that are not ${options.acceptedKind ?? 'supported'}: ${list}`,
        {
          hint: `narrow target_modules to ${options.acceptedKind ?? 'supported'} modules only (a regex over the full name can exclude the rest)`,
        },
      );
    }
  }
  return hits;
}

/**
 * True when `name` is one of `modules` (PEFT suffix rules) or lies inside one. PEFT never puts an
 * adapter on a modules_to_save module or its children (`check_target_module_exists` in
 * peft/tuners/tuners_utils.py matches `(^|.*\.)<m>($|\..*)`), since the wrapper's trained copy
 * would then hold adapter layers of its own.
 *
 * @example
 * isInsideModules('multi_modal_projector.linear_1', ['multi_modal_projector']); // true
 */
export function isInsideModules(name: string, modules: readonly string[] | null | undefined): boolean {
  return (modules ?? []).some((m) => name === m || name.endsWith(`.${m}`) || name.startsWith(`${m}.`) || name.includes(`.${m}.`));
}

/** PEFT condenses a target list of at least this many names (MIN_TARGET_MODULES_FOR_OPTIMIZATION, peft/utils/constants.py). */
export const MIN_TARGETS_FOR_CONDENSING = 20;

/**
 * The shortest name suffixes that select every name of `targets` and none of `others`, as PEFT's
 * `_find_minimal_target_modules` (peft/tuners/tuners_utils.py) condenses a long target list before
 * it writes adapter_config.json: targets in order of their suffix lists, each takes its shortest
 * suffix that no other module ends with, unless a suffix taken already covers it. Sorted.
 *
 * @example
 * minimalTargetModules(['a.0.q', 'a.1.q'], ['a.0.k', 'a.1.k']); // ['q']
 */
export function minimalTargetModules(targets: readonly string[], others: readonly string[]): string[] {
  const suffixesOf = (name: string) => {
    const parts = name.split('.');
    return parts.map((_, i) => parts.slice(i).join('.')).reverse();
  };
  const blocked = new Set(others.flatMap(suffixesOf));
  const required = new Set<string>();
  const compare = (a: string[], b: string[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length - b.length;
  };
  const items = [...new Set(targets)].map((t) => [t, suffixesOf(t)] as const).sort((x, y) => compare(x[1], y[1]));
  for (const [item, suffixes] of items) {
    for (const suffix of suffixes) {
      if (required.has(suffix) || blocked.has(suffix)) continue;
      if (![...required].some((r) => item.endsWith(`.${r}`))) required.add(suffix);
      break;
    }
  }
  return required.size === 0 ? [...new Set(targets)].sort() : [...required].sort();
}
