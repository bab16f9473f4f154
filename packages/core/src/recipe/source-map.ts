// Parses a YAML or JSON recipe file and records the file:line of every value, so schema errors
// can point at the line that caused them (`peft.r: ... (recipe.yaml:12)`).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { MmftError } from '../errors';

export type PathSegment = string | number;

/** Where a recipe value came from: a file line, or a CLI override. */
export interface ValueOrigin {
  /** How messages name the source: `recipe.yaml`, or `--set train.lr=2e-4`. */
  readonly file: string;
  readonly line?: number;
  /** Folder relative paths in this value resolve from: the file's folder, or the working folder for --set. */
  readonly dir?: string;
}

/** `["metrics", 0, "k"]` → `metrics[0].k`. */
export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    '',
  );
}

export interface ParsedSource {
  readonly value: Record<string, unknown>;
  readonly origins: Map<string, ValueOrigin>;
}

/**
 * Parse recipe text (YAML is a superset of JSON, so one parser serves both). `file` names the
 * source in messages; `dir` is where relative paths written in it resolve from.
 */
export function parseRecipeText(text: string, file: string, dir?: string): ParsedSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new MmftError('E_RECIPE', `${file}:${line}: ${first.message.split('\n')[0]}`);
  }
  const value: unknown = document.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MmftError(
      'E_RECIPE',
      `${file}: a recipe must be a mapping of sections (model:, data:, train:...), got ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  const origins = new Map<string, ValueOrigin>();
  const at = (offset: number): ValueOrigin => ({ file, line: lineCounter.linePos(offset).line, ...(dir === undefined ? {} : { dir }) });
  const visit = (node: unknown, segments: PathSegment[]): void => {
    const range = (node as Node | null)?.range;
    // A mapping value keeps the line of its key (set below): `train:` is where a reader looks,
    // not the first line inside the block.
    if (range && !origins.has(formatPath(segments))) origins.set(formatPath(segments), at(range[0]));
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyRange = (pair.key as Node | null)?.range;
        if (keyRange) origins.set(formatPath([...segments, key]), at(keyRange[0]));
        if (pair.value) visit(pair.value, [...segments, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...segments, index]));
    }
  };
  visit(document.contents, []);
  return { value: value as Record<string, unknown>, origins };
}

/** The origin of the value at `segments`, or of its nearest ancestor that has one. */
export function originOf(origins: ReadonlyMap<string, ValueOrigin>, segments: readonly PathSegment[]): ValueOrigin | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const origin = origins.get(formatPath(segments.slice(0, n)));
    if (origin) return origin;
  }
  return undefined;
}

/** Forget the origins of everything below `segments` (its value was replaced as a whole). */
export function dropOriginsBelow(origins: Map<string, ValueOrigin>, segments: readonly PathSegment[]): void {
  const prefix = formatPath(segments);
  for (const key of [...origins.keys()]) {
    if (prefix === '' ? key !== '' : key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}[`)) origins.delete(key);
  }
}

/** `recipe.yaml:12`, `--set train.lr=2e-4`, or `fallback` when nothing is known. */
export function formatOrigin(origin: ValueOrigin | undefined, fallback: string): string {
  if (!origin) return fallback;
  return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
}
