// A Dataset over examples already in memory (the COCO and VQA v2 layouts are single JSON
// documents, so they are parsed whole); iteration shares the seeded order of io/order.ts.
import type { Dataset, Example, IterateOptions, TaskKind } from '@mmft/core';
import { visitOrder } from '../io/order';

/**
 * Wrap an array of examples of one task as a Dataset.
 *
 * @example
 * const data = arrayDataset('caption', examples);
 */
export function arrayDataset(task: TaskKind, examples: readonly Example[]): Dataset {
  return {
    task,
    size: examples.length,
    async *iterate(options: IterateOptions = {}) {
      for (const position of visitOrder(examples.length, options)) yield examples[position]!;
    },
  };
}
