// Names inside a module tree: validation of local names, glob patterns over dotted parameter
// names, "did you mean" suggestions, and unique tfjs variable names. Dotted names follow
// PyTorch's torch/nn/modules/module.py (`named_parameters`) so they equal HF state-dict keys.

import { MmftError } from '../errors';

/** A parameter-name pattern: a RegExp, or a glob matched against the whole dotted name. */
export type NamePattern = RegExp | string;

/** Throws unless `name` can be one segment of a dotted path (non-empty, no dots). */
export function assertLocalName(name: string, kind: 'parameter' | 'module', owner: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes('.')) {
    throw new MmftError('E_CONFIG', `${owner}: ${kind} name ${JSON.stringify(name)} is invalid; names are non-empty and contain no "."`, {
      hint: 'register nested modules on their own parent, e.g. encoder.registerModule("layers", list)',
    });
  }
}

/**
 * Turns a glob into an anchored RegExp over dotted names: `*` matches within one segment,
 * `**` across segments (`**.` also matches zero segments), `?` one non-dot character.
 *
 * @example
 * globToRegExp('vision_model.**.q_proj.*').test('vision_model.encoder.layers.0.self_attn.q_proj.weight'); // true
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**.` may stand for no segment at all, so "**.bias" also matches a top-level "bias".
      if (glob[i + 2] === '.') {
        source += '(?:.*\\.)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^.]*';
    else if (c === '?') source += '[^.]';
    else source += c.replace(/[\\^$+?.()|[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A predicate for a pattern; RegExps are used as given (unanchored, like `re.search`). */
export function toNameMatcher(pattern: NamePattern): (name: string) => boolean {
  if (typeof pattern === 'string') {
    const re = globToRegExp(pattern);
    return (name) => re.test(name);
  }
  // A /g or /y RegExp keeps lastIndex between calls; a fresh copy without them does not.
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  return (name) => re.test(name);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The `limit` candidates closest to `target` by edit distance, best first. */
export function closestNames(target: string, candidates: Iterable<string>, limit = 5): string[] {
  return [...candidates]
    .map((name) => ({ name, d: editDistance(target, name) }))
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((x) => x.name);
}

/** Lists at most `limit` names, then "... and N more", for error messages. */
export function listNames(names: readonly string[], limit = 20): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown}, ... and ${names.length - limit} more` : shown;
}

/** The error for a name that does not exist, with the closest existing names. */
export function notFound(owner: string, kind: string, name: string, candidates: Iterable<string>): MmftError {
  const close = closestNames(name, candidates);
  const suffix = close.length ? `; closest: ${close.join(', ')}` : '';
  return new MmftError('E_CONFIG', `${owner} has no ${kind} "${name}"${suffix}`);
}

/** Sets `trainable` on the parameters whose dotted name matches; matching none is an error. */
export function setTrainable(
  named: ReadonlyArray<readonly [string, { trainable: boolean }]>,
  pattern: NamePattern,
  trainable: boolean,
  owner: string,
): string[] {
  const matches = toNameMatcher(pattern);
  const hits = named.filter(([name]) => matches(name));
  if (hits.length === 0) {
    // A typo in a freeze pattern would otherwise silently train (or freeze) the whole model.
    throw new MmftError(
      'E_CONFIG',
      `${trainable ? 'unfreeze' : 'freeze'}(${String(pattern)}) matches none of the ${named.length} parameters of ${owner}; ` +
        `closest: ${closestNames(
          String(pattern),
          named.map(([name]) => name),
        ).join(', ')}`,
      { hint: 'globs match the whole dotted name: "*" stays within a segment, "**" crosses dots' },
    );
  }
  for (const [, variable] of hits) variable.trainable = trainable;
  return hits.map(([name]) => name);
}

let variableCounter = 0;
// The random part keeps names unique even when two copies of @mmft/core share one tfjs engine.
const processTag = Math.random().toString(36).slice(2, 8);

/** A tfjs variable name that no other variable in this process has (tfjs requires that). */
export function uniqueVariableName(hint: string): string {
  variableCounter += 1;
  return `mmft/${hint}/${processTag}-${variableCounter}`;
}
