// Inputs of `mmft eval caption`: our JSONL ({"id","caption"} / {"id","captions"}) or the COCO
// layouts (result JSON [{"image_id","caption"}], captions annotation file {"annotations": [...]}).
import { MmftError } from '@mmft/core';
import type { Keyed } from './pair';
import { Problems, throwIfAnyProblems } from './problems';
import { idOf, readRecords } from './read-records';

type Raw = { value: Record<string, unknown>; where: string };

function rawEntries(file: string, cwd: string, idKey: string, listKey?: string): Raw[] {
  const content = readRecords(file, cwd, (v) => idKey in v);
  if (content.kind === 'jsonl') return content.records;
  const doc = content.value;
  const list = Array.isArray(doc)
    ? doc
    : listKey && typeof doc === 'object' && doc !== null
      ? (doc as Record<string, unknown>)[listKey]
      : undefined;
  if (!Array.isArray(list)) {
    throw new MmftError(
      'E_INPUT',
      `${file}: not a layout mmft eval knows (JSONL, a JSON array${listKey ? `, or an object with "${listKey}"` : ''})`,
      {
        hint: 'see docs/metrics.md for the accepted file layouts',
      },
    );
  }
  return list.map((value, i) => ({
    value: (value ?? {}) as Record<string, unknown>,
    where: `${file}[${listKey && !Array.isArray(doc) ? `${listKey}.` : ''}${i}]`,
  }));
}

/**
 * Predictions: JSONL {"id","caption"} or COCO results [{"image_id","caption"}].
 *
 * @example
 * loadCaptionPredictions('P.jsonl', process.cwd());
 */
export function loadCaptionPredictions(file: string, cwd: string): Keyed<string>[] {
  const invalid = new Problems(`invalid records in ${file}`, 'each prediction needs "id" (or COCO "image_id") and a string "caption"');
  const out: Keyed<string>[] = [];
  for (const { value, where } of rawEntries(file, cwd, 'id')) {
    const id = idOf(value.id ?? value.image_id);
    if (id === undefined) invalid.add(`${where} (missing "id")`);
    else if (typeof value.caption !== 'string') invalid.add(`${where} (id "${id}": "caption" is not a string)`);
    else out.push({ id, where, value: value.caption });
  }
  throwIfAnyProblems([invalid]);
  return out;
}

/**
 * References: JSONL {"id","captions":[...]} or a COCO captions annotation file (grouped by image).
 *
 * @example
 * loadCaptionReferences('captions_val2014.json', process.cwd());
 */
export function loadCaptionReferences(file: string, cwd: string): Keyed<string[]>[] {
  const invalid = new Problems(`invalid records in ${file}`, 'each reference needs "id" and "captions": a non-empty list of strings');
  const empty = new Problems(`empty reference lists in ${file}`, 'every image needs at least one reference caption');
  const raw = rawEntries(file, cwd, 'id', 'annotations');
  const out: Keyed<string[]>[] = [];
  const grouped = new Map<string, Keyed<string[]>>();
  for (const { value, where } of raw) {
    if ('image_id' in value && !('captions' in value)) {
      // COCO annotation: one caption per entry, several entries per image.
      const id = idOf(value.image_id);
      if (id === undefined || typeof value.caption !== 'string') invalid.add(`${where} (needs "image_id" and a string "caption")`);
      else if (grouped.has(id)) grouped.get(id)!.value.push(value.caption);
      else grouped.set(id, { id, where, value: [value.caption] });
      continue;
    }
    const id = idOf(value.id);
    const captions = value.captions;
    if (id === undefined) invalid.add(`${where} (missing "id")`);
    else if (!Array.isArray(captions) || !captions.every((c) => typeof c === 'string'))
      invalid.add(`${where} (id "${id}": "captions" is not a list of strings)`);
    else if (captions.length === 0) empty.add(`${where} (id "${id}")`);
    else out.push({ id, where, value: captions as string[] });
  }
  throwIfAnyProblems([invalid, empty]);
  return [...out, ...grouped.values()];
}
