// Slices for `mmft eval recipe --slice-by`: the value of a record field for every example (a field
// of the typed example such as lang or answer_type, a dotted path into the JSONL record the example
// was read from, or a field a dataset derives, e.g. the colours of a shapes scene), the examples
// grouped by value, and every metric scored on each group's own inputs (the same metrics, fed only
// that group's records). A list-valued field puts the example in one slice per element.
import * as fs from 'node:fs';
import type { Example, MetricInput, MetricSink } from '@mmft/core';
import { sampleScene, shapesConfigSchema } from '@mmft/data-shapes';

/** Slices smaller than this are marked in the report: their scores move a lot with one record. */
export const MIN_SLICE_SIZE = 10;

/** The label of examples that lack the field. */
export const MISSING = '(missing)';

/** Extra fields of an example a dataset can derive (undefined: none for this example). */
export type DerivedFields = (example: Example) => Record<string, unknown> | undefined;

/**
 * The fields a shapes scene adds (its examples carry only lang and the task's fields): domain,
 * colors, shapes and sizes of its objects (lists), and objects (how many). The scene is drawn again
 * from the dataset's seed and the image index in the example id (`shapes-<domain>-<index>…`,
 * packages/plugins/data-shapes/src/generate.ts), as the dataset itself draws it.
 *
 * @example
 * shapesDerivedFields({ n: 20, task: 'vqa' })(example); // { domain: 'A', colors: ['red', 'blue'], objects: 2, ... }
 */
export function shapesDerivedFields(settings: Record<string, unknown>): DerivedFields {
  const config = shapesConfigSchema.parse(settings);
  return (example) => {
    const m = /^shapes-([A-Z])-(\d+)/.exec(example.id);
    if (!m) return undefined;
    const scene = sampleScene(config.seed, Number(m[2]), config.domain, config.maxObjects);
    return {
      domain: scene.domain,
      objects: scene.objects.length,
      colors: scene.objects.map((o) => o.color),
      colours: scene.objects.map((o) => o.color),
      shapes: scene.objects.map((o) => o.shape),
      sizes: scene.objects.map((o) => o.size),
    };
  };
}

// Typed examples spell fields in camelCase; records and VQA files in snake_case: accept both.
const ALIASES: Record<string, string> = { answer_type: 'answerType', question_type: 'questionType' };

function at(value: unknown, dotted: string): unknown {
  let v: unknown = value;
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Reads the JSONL record behind an example by its source file and line (cached per file). */
export class SourceRecords {
  private readonly files = new Map<string, string[] | undefined>();

  record(example: Example): Record<string, unknown> | undefined {
    const source = example.source;
    if (!source) return undefined;
    let lines = this.files.get(source.file);
    if (!this.files.has(source.file)) {
      try {
        lines = fs.readFileSync(source.file, 'utf8').split(/\r?\n/);
      } catch {
        lines = undefined;
      }
      this.files.set(source.file, lines);
    }
    const line = lines?.[source.line - 1];
    if (line === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
      // a JSON (not JSONL) source: its "line" is no line of records
      return undefined;
    }
  }
}

/**
 * The slice labels of `example` for `field`: from the typed example, else its source record, else
 * the derived fields; lists give one label per distinct element; absent → [MISSING].
 *
 * @example
 * sliceValues({ task: 'vqa', id: 'q', lang: 'zh', ... }, 'lang', new SourceRecords()); // ['zh']
 */
export function sliceValues(example: Example, field: string, records: SourceRecords, derived?: DerivedFields): string[] {
  const alias = ALIASES[field] ?? field;
  let value = at(example, alias);
  if (value === undefined) value = at(records.record(example), field);
  if (value === undefined && derived) value = at(derived(example), field);
  const label = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? MISSING : JSON.stringify(v));
  if (Array.isArray(value)) return value.length === 0 ? [MISSING] : [...new Set(value.map(label))];
  return [label(value)];
}

/** Example ids by slice label, labels sorted (missing last), ids in example order. */
export function groupBy(
  examples: readonly Example[],
  field: string,
  records: SourceRecords,
  derived?: DerivedFields,
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const e of examples) for (const v of sliceValues(e, field, records, derived)) groups.set(v, [...(groups.get(v) ?? []), e.id]);
  const labels = [...groups.keys()].sort((a, b) => (a === MISSING ? 1 : b === MISSING ? -1 : a.localeCompare(b)));
  return new Map(labels.map((l) => [l, groups.get(l)!]));
}

/**
 * The inputs that belong to examples `ids`: per-example inputs by id; retrieval embeddings keep the
 * images of those ids and the texts naming them (retrieval within the slice). A similarity-matrix
 * retrieval input cannot be split and is dropped (the report says the metric was not sliced).
 *
 * @example
 * inputsOf(inputs, new Set(['q1', 'q3']));
 */
export function inputsOf(inputs: readonly MetricInput[], ids: ReadonlySet<string>): MetricInput[] {
  const out: MetricInput[] = [];
  for (const input of inputs) {
    if (input.kind !== 'retrieval') {
      if (ids.has(input.id)) out.push(input);
    } else if (input.images && input.texts) {
      const images = input.images.filter((i) => ids.has(i.id));
      if (images.length > 0) out.push({ ...input, images, texts: input.texts.filter((t) => ids.has(t.imageId)) });
    }
  }
  return out;
}

/**
 * Every metric's scores (`<metric>.<score>`) on `inputs` alone ({} with no metric or no input). A
 * metric that got no input of its kind has no score: a slice of a mixed eval set (VQA questions
 * sliced by question type, beside captions) holds no caption, and a metric cannot score nothing.
 */
export function scoreInputs(sink: MetricSink, inputs: readonly MetricInput[]): Record<string, number> {
  if (sink.metrics.length === 0 || inputs.length === 0) return {};
  sink.reset();
  sink.update(inputs);
  const fed = new Set(inputs.map((i) => i.kind));
  const out: Record<string, number> = {};
  for (const m of sink.metrics) {
    if (!fed.has(m.consumes)) continue;
    for (const [name, value] of Object.entries(m.metric.compute().scores)) out[`${m.id}.${name}`] = value;
  }
  return out;
}

/** One slice: its label, how many examples it holds, its scores and whether it is under MIN_SLICE_SIZE. */
export interface SliceScores {
  readonly value: string;
  readonly n: number;
  readonly small: boolean;
  readonly scores: Record<string, number>;
}

/**
 * Scores each slice of `groups` on its own inputs.
 *
 * @example
 * scoreSlices(sink, inputs, groupBy(examples, 'lang', records)); // [{ value: 'en', n: 40, small: false, scores: {...} }, ...]
 */
export function scoreSlices(
  sink: MetricSink,
  inputs: readonly MetricInput[],
  groups: ReadonlyMap<string, readonly string[]>,
): SliceScores[] {
  return [...groups].map(([value, ids]) => ({
    value,
    n: ids.length,
    small: ids.length < MIN_SLICE_SIZE,
    scores: scoreInputs(sink, inputsOf(inputs, new Set(ids))),
  }));
}
