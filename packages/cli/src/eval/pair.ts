// Pairs predictions with references by id. Duplicates and ids present on one side only are
// errors; with --allow-missing the intersection is scored and the left-out count is reported.
import { MmftError } from '@mmft/core';
import { Problems, throwIfAnyProblems } from './problems';

/** A record of an input file with its id and location. */
export interface Keyed<T> {
  readonly id: string;
  readonly where: string;
  readonly value: T;
}

export interface Paired<P, R> {
  readonly pairs: { id: string; prediction: P; reference: R }[];
  /** Ids left out by --allow-missing: [only in predictions, only in references]. */
  readonly leftOut: readonly [number, number];
}

function index<T>(entries: readonly Keyed<T>[], file: string, problems: Problems[]): Map<string, Keyed<T>> {
  const byId = new Map<string, Keyed<T>>();
  const dupes = new Problems(`duplicate ids in ${file}`, `give each id once in ${file}`);
  for (const entry of entries) {
    const first = byId.get(entry.id);
    if (first) dupes.add(`${entry.where} (id "${entry.id}", first at ${first.where})`);
    else byId.set(entry.id, entry);
  }
  problems.push(dupes);
  return byId;
}

/**
 * Pair by id, in the order of the predictions file.
 *
 * @example
 * pairById(preds, refs, { predictionsFile: 'P.jsonl', referencesFile: 'R.jsonl', allowMissing: false });
 */
export function pairById<P, R>(
  predictions: readonly Keyed<P>[],
  references: readonly Keyed<R>[],
  options: { predictionsFile: string; referencesFile: string; allowMissing: boolean },
): Paired<P, R> {
  const problems: Problems[] = [];
  const preds = index(predictions, options.predictionsFile, problems);
  const refs = index(references, options.referencesFile, problems);
  const onlyPred = new Problems(
    `ids only in ${options.predictionsFile} (no reference)`,
    'fix the ids, or pass --allow-missing to score the ids both files have',
  );
  const onlyRef = new Problems(
    `ids only in ${options.referencesFile} (no prediction)`,
    'predict every id, or pass --allow-missing to score the ids both files have',
  );
  const pairs: { id: string; prediction: P; reference: R }[] = [];
  for (const [id, pred] of preds) {
    const ref = refs.get(id);
    if (ref) pairs.push({ id, prediction: pred.value, reference: ref.value });
    else onlyPred.add(`${pred.where} (id "${id}")`);
  }
  for (const [id, ref] of refs) if (!preds.has(id)) onlyRef.add(`${ref.where} (id "${id}")`);
  throwIfAnyProblems(options.allowMissing ? problems : [...problems, onlyPred, onlyRef]);
  if (pairs.length === 0) {
    throw new MmftError('E_DATA', `${options.predictionsFile} and ${options.referencesFile} have no id in common: nothing to score`, {
      hint: 'check that both files use the same ids',
    });
  }
  return { pairs, leftOut: [onlyPred.count, onlyRef.count] };
}
