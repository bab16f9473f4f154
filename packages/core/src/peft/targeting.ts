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
    for (const key of target as readonly string[]) if (!names.some((n) => matchesTarget(n, [key]))) throw noMatch(JSON.stringify(key));
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
