// `--set train.lr=2e-4` overrides: the value is read as a YAML scalar/flow value, so numbers,
// booleans and `[a, b]` lists work as users type them. List items are addressed as
// `metrics.0.ks` or `metrics[0].ks` (Hydra and OmegaConf accept the dotted index).
import { parse } from 'yaml';
import { MmftError } from '../errors';
import { isPlainObject } from './merge';
import { formatPath, type PathSegment } from './source-map';

export interface ParsedOverride {
  readonly segments: readonly PathSegment[];
  readonly value: unknown;
  readonly text: string;
}

/** Parse one `path=value` string. */
export function parseOverride(text: string): ParsedOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new MmftError('E_INPUT', `--set "${text}": expected path=value, e.g. --set train.lr=2e-4`);
  const pathText = text.slice(0, eq).trim();
  const segments: PathSegment[] = [];
  for (const part of pathText.split('.')) {
    if (/^\d+$/.test(part) && segments.length > 0) {
      segments.push(Number(part));
      continue;
    }
    const match = /^([A-Za-z_][\w-]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) throw new MmftError('E_INPUT', `--set "${text}": "${part}" is not a valid path segment`);
    segments.push(match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  let value: unknown;
  try {
    value = parse(text.slice(eq + 1));
  } catch (cause) {
    throw new MmftError('E_INPUT', `--set "${text}": the value is not valid YAML`, { cause });
  }
  return { segments, value: value ?? null, text };
}

/** A copy of `recipe` with the override applied (intermediate mappings are created). */
export function applyOverride(recipe: Record<string, unknown>, override: ParsedOverride): Record<string, unknown> {
  const root = structuredClone(recipe);
  let cursor: Record<string, unknown> | unknown[] = root;
  override.segments.forEach((segment, index) => {
    const last = index === override.segments.length - 1;
    const container = cursor as Record<string | number, unknown>;
    const where = formatPath(override.segments.slice(0, index)) || '(recipe)';
    if (typeof segment === 'number') {
      if (!Array.isArray(cursor)) throw new MmftError('E_INPUT', `--set "${override.text}": ${where} is a mapping, not a list`);
      // Appending is fine; a gap would leave holes that read back as null.
      if (segment > cursor.length) {
        throw new MmftError(
          'E_INPUT',
          `--set "${override.text}": ${where} has ${cursor.length} items; use an index from 0 to ${cursor.length} (${cursor.length} appends)`,
        );
      }
    } else if (Array.isArray(cursor)) {
      throw new MmftError('E_INPUT', `--set "${override.text}": ${where} is a list; address an item by its index (${where}.0.${segment})`);
    }
    if (last) {
      container[segment] = override.value;
      return;
    }
    const next = container[segment];
    if (next === undefined) container[segment] = typeof override.segments[index + 1] === 'number' ? [] : {};
    else if (!isPlainObject(next) && !Array.isArray(next)) {
      throw new MmftError('E_INPUT', `--set "${override.text}": ${String(segment)} is a ${typeof next}, not a section`);
    }
    cursor = container[segment] as Record<string, unknown>;
  });
  return root;
}
