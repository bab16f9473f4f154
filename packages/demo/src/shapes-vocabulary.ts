// Every word the shapes world can say, in English and Chinese, gathered by generating examples of
// every task in both domains and languages: the vocabulary of the demo model's tokenizer.
import { SHAPES_TASKS, ShapesDataset, shapesConfigSchema } from '@mmft/data-shapes';

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) if (key !== 'image' && key !== 'id' && key !== 'source') collectStrings(item, into);
  }
}

/**
 * The texts of `n` scenes per (domain, task) in both languages; enough to cover the closed
 * vocabulary (the generator's words are finite; the test checks nothing new appears at larger n).
 *
 * @example
 * const texts = await shapesTexts(200);
 */
export async function shapesTexts(n: number, seed = 0): Promise<string[]> {
  const texts = new Set<string>();
  for (const domain of ['A', 'B'] as const) {
    for (const task of SHAPES_TASKS) {
      const dataset = new ShapesDataset(shapesConfigSchema.parse({ domain, task, n, seed, lang: 'both', imageSize: 16 }));
      for await (const example of dataset.iterate()) collectStrings(example, texts);
    }
  }
  return [...texts].sort();
}
