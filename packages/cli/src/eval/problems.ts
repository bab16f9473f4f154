// Collects every problem found in the input files before failing, so one run reports them all:
// the count and the first ten (file:line or id), never a silent drop (docs/metrics.md, "`mmft eval`").
import { MmftError } from '@mmft/core';

const SHOWN = 10;

/**
 * A list of problems of one kind ("malformed lines", "ids only in predictions", …).
 *
 * @example
 * const dupes = new Problems('duplicate ids in P.jsonl', 'give each id once');
 * dupes.add('P.jsonl:7 (id "42")'); dupes.throwIfAny();
 */
export class Problems {
  readonly items: string[] = [];

  constructor(
    readonly title: string,
    readonly hint: string,
  ) {}

  add(where: string): void {
    this.items.push(where);
  }

  get count(): number {
    return this.items.length;
  }

  /** "N <title>: first, second, … (and M more)". */
  describe(): string {
    const shown = this.items.slice(0, SHOWN).join(', ');
    const more = this.count > SHOWN ? ` … and ${this.count - SHOWN} more` : '';
    return `${this.count} ${this.title}${this.count > SHOWN ? ` (first ${SHOWN})` : ''}: ${shown}${more}`;
  }

  throwIfAny(): void {
    if (this.count > 0) throw new MmftError('E_DATA', this.describe(), { hint: this.hint });
  }
}

/** Throw one error listing every non-empty problem list (each with its own count and examples). */
export function throwIfAnyProblems(lists: readonly Problems[]): void {
  const found = lists.filter((p) => p.count > 0);
  if (found.length === 0) return;
  throw new MmftError('E_DATA', found.map((p) => p.describe()).join('\n'), {
    hint: found.map((p) => p.hint).join('; '),
  });
}
