// Chat rows LLaMA-Factory would drop, so the bundle reports them as a gap instead of training on fewer rows unseen.
import * as fs from 'node:fs';

/**
 * Rows LLaMA-Factory's sharegpt converter would skip: after an optional leading system turn, turns
 * must alternate user / assistant and end with the assistant (data/converter.py SharegptDatasetConverter).
 */
export function rowsLlamaFactorySkips(file: string): { count: number; first?: number } {
  let count = 0;
  let first: number | undefined;
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const messages = (JSON.parse(line) as { messages: { role: string }[] }).messages;
      const turns = messages[0]?.role === 'system' ? messages.slice(1) : messages;
      const ok = turns.length % 2 === 0 && turns.every((m, k) => m.role === (k % 2 === 0 ? 'user' : 'assistant'));
      if (!ok) {
        count += 1;
        first ??= i + 1;
      }
    });
  return { count, ...(first !== undefined ? { first } : {}) };
}
