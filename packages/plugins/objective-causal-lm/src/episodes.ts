// Few-shot episodes: which solved examples go in front of a caption or VQA example. The demos are
// drawn at random from a pool of the same task, as open_flamingo's evaluation draws them from its
// query set (open_flamingo/eval/evaluate.py, sample_batch_demos_from_query_set), never the example
// itself nor one showing the same image (its answer would be given away). Every draw is a pure
// function of (seed, epoch, position), so a resumed run sees the same episodes.
import { imagesOf, MmftError, type Dataset, type Example, type ImageRef } from '@mmft/core';
import { deriveSeed } from '@mmft/core/nn';
import { exampleWhere } from './pieces';

/** The tasks that get demos: those with one prompt and one answer per image. */
export type ShotTask = 'caption' | 'vqa';

export const takesDemos = (example: Example): example is Extract<Example, { task: ShotTask }> =>
  example.task === 'caption' || example.task === 'vqa';

/** The support examples by task, read once into memory. */
export type DemoPool = ReadonlyMap<ShotTask, readonly Example[]>;

/** What identifies an image: its file, or its bytes' key. */
export const imageKey = (ref: ImageRef): string => (ref.kind === 'file' ? `file:${ref.path}` : `bytes:${ref.key}`);

/** Every caption and VQA example of `dataset`, in order, grouped by task (other tasks never serve as demos). */
export async function readPool(dataset: Dataset): Promise<DemoPool> {
  const pool = new Map<ShotTask, Example[]>([
    ['caption', []],
    ['vqa', []],
  ]);
  for await (const example of dataset.iterate({ shuffle: false })) if (takesDemos(example)) pool.get(example.task)!.push(example);
  return pool;
}

const draw = (seed: number, salt: string, n: number): number => (deriveSeed(seed, salt) ?? 0) % n;

/** k for a training example at (epoch, position): uniform on min..max. */
export function drawShots([min, max]: readonly [number, number], seed: number, epoch: number, position: number): number {
  return min === max ? min : min + draw(seed, `few-shot:k:${epoch}:${position}`, max - min + 1);
}

/**
 * `k` distinct demos for `query` from `pool` (none for tasks other than caption and VQA): same task,
 * not the query (same id) and not one showing an image the query shows. Fewer than `k` such
 * examples is an E_DATA error naming the query and `where` (the pool's recipe path).
 */
export function drawDemos(
  pool: DemoPool,
  query: Example,
  k: number,
  seed: number,
  epoch: number,
  position: number,
  where: string,
): Example[] {
  if (k === 0 || !takesDemos(query)) return [];
  const shown = new Set(imagesOf(query).map(imageKey));
  const candidates = (pool.get(query.task) ?? []).filter((e) => e.id !== query.id && !imagesOf(e).some((i) => shown.has(imageKey(i))));
  if (candidates.length < k) {
    throw new MmftError(
      'E_DATA',
      `${exampleWhere(query)} needs ${k} in-context ${query.task} examples, but ${where} has ${candidates.length} other than it (not the same id, not the same image)`,
      { hint: `give ${where} more ${query.task} examples, or lower objective.few_shot.shots / train_shots` },
    );
  }
  // A partial Fisher-Yates shuffle: the first k of a seeded permutation.
  const order = candidates.map((_, i) => i);
  for (let i = 0; i < k; i += 1) {
    const j = i + draw(seed, `few-shot:${epoch}:${position}:${i}`, order.length - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, k).map((i) => candidates[i]!);
}
