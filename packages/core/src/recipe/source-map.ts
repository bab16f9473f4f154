// Parses a YAML or JSON recipe file and records the file:line of every value, so schema errors
// can point at the line that caused them (`peft.r: ... (recipe.yaml:12)`).
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { MmftError } from '../errors';

export type PathSegment = string | number;

/** Where a recipe value came from: a file line, or a CLI override. */
export interface ValueOrigin {
  readonly file: string;
  readonly line?: number;
}

/** `["metrics", 0, "k"]` → `metrics[0].k`. */
export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), '');
}

export interface ParsedSource {
  readonly value: Record<string, unknown>;
  readonly origins: Map<string, ValueOrigin>;
}

/** Parse recipe text (YAML is a superset of JSON, so one parser serves both). */
export function parseRecipeText(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new MmftError('E_RECIPE', `${file}:${line}: ${first.message.split('\n')[0]}`);
  }
  const value: unknown = document.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MmftError('E_RECIPE', `${file}: a recipe must be a mapping of sections (model:, data:, train:...), got ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  const origins = new Map<string, ValueOrigin>();
  const visit = (node: unknown, segments: PathSegment[]): void => {
    const range = (node as Node | null)?.range;
    if (range) origins.set(formatPath(segments), { file, line: lineCounter.linePos(range[0]).line });
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyRange = (pair.key as Node | null)?.range;
        if (keyRange) origins.set(formatPath([...segments, key]), { file, line: lineCounter.linePos(keyRange[0]).line });
        if (pair.value) visit(pair.value, [...segments, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...segments, index]));
    }
  };
  visit(document.contents, []);
  return { value: value as Record<string, unknown>, origins };
}
