// The three image conditions of `mmft probe` and the numbers compared across them. The probe runs
// the recipe's own objective (objective.evaluate: teacher-forced loss of the reference answers and
// generated answers) on the same examples three times, changing only each example's image:
// - 'true': the example's own image;
// - 'blank': one uniform image of the processor's mean colour, so the pixels are ≈ 0 after
//   normalisation — the "no image" input LLaVA gives text-only rows (zeros, llava/train/train.py);
// - 'shuffled': another example's image, by a seeded derangement (no example keeps its own).
// A model that reads the image answers differently and finds its reference answers less likely
// without its own image; one that ignores it does not (the text-only-prior failure of LLaVA-style
// models: "Hallucination of Multimodal LLMs", and the blind baselines of VQA work).
import type { Example, ImageProcessing, ImageRef } from '@mmft/core';

export const CONDITIONS = ['true', 'blank', 'shuffled'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** How each condition is named in tables and the report. */
export const CONDITION_LABELS: Readonly<Record<Condition, string>> = {
  true: 'true image',
  blank: 'blank image',
  shuffled: "another example's image",
};

/**
 * A uniform image of the processor's mean colour (each channel round(mean × 255)), as SVG bytes
 * @mmft/image decodes like any other image reference.
 *
 * @example
 * blankImage({ size: 224, cropSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }); // a 224×224 rgb(128,128,128) square
 */
export function blankImage(p: ImageProcessing): ImageRef & { kind: 'bytes' } {
  const side = Math.max(p.size, p.cropSize);
  const [r, g, b] = p.mean.map((m) => Math.min(255, Math.max(0, Math.round(m * 255))));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}">` +
    `<rect width="${side}" height="${side}" fill="rgb(${r},${g},${b})"/></svg>`;
  return { kind: 'bytes', bytes: new TextEncoder().encode(svg), format: 'svg', key: `mmft-probe-blank-${r}-${g}-${b}` };
}

/** mulberry32: a small seeded generator (the derangement needs reproducibility, not quality). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded permutation of 0..n−1 with no fixed point (Sattolo's algorithm: a uniformly random
 * n-cycle), so every example gets another example's image. n < 2 has none: returns undefined.
 *
 * @example
 * derangement(4, 0); // e.g. [2, 0, 3, 1]: example 0 gets image 2, ...
 */
export function derangement(n: number, seed: number): number[] | undefined {
  if (n < 2) return undefined;
  const p = Array.from({ length: n }, (_, i) => i);
  const next = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** The examples with each one's image replaced as `condition` says (`order`: the shuffled condition's derangement). */
export function withCondition(
  examples: readonly Example[],
  condition: Condition,
  blank: ImageRef,
  order: readonly number[] | undefined,
): Example[] {
  if (condition === 'true') return [...examples];
  return examples.map((e, i) => {
    const image = condition === 'blank' ? blank : examples[order![i]!]!.image!;
    return { ...e, image } as Example;
  });
}

/** How two answers are compared: trimmed, lower-cased, inner whitespace collapsed. */
export const normaliseAnswer = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * The share of ids whose answer under a condition equals the true-image answer (normaliseAnswer),
 * over the ids both have. NaN when none.
 *
 * @example
 * agreement(new Map([['a', 'red'], ['b', 'two']]), new Map([['a', 'Red '], ['b', 'three']])); // 0.5
 */
export function agreement(truth: ReadonlyMap<string, string>, other: ReadonlyMap<string, string>): number {
  let same = 0;
  let n = 0;
  for (const [id, answer] of truth) {
    const o = other.get(id);
    if (o === undefined) continue;
    n++;
    if (normaliseAnswer(o) === normaliseAnswer(answer)) same++;
  }
  return n === 0 ? Number.NaN : same / n;
}

/** Summed attention mass on image positions per layer, with the number of query positions summed over. */
export interface AttentionSums {
  readonly sums: number[];
  readonly counts: number[];
}

/**
 * Attention mass on image positions per layer: for each layer, the probability summed over image
 * key positions, added up over rows, heads and text query positions (attended, not image); the
 * mean per layer is sums / counts (meanMass). `probs[layer]` is [B][H][T][T] (query × key, rows
 * summing to 1, as transformers' attentions with output_attentions=True); `image[b][t]` marks
 * image positions, `mask[b][t]` attended ones.
 *
 * @example
 * imageAttentionSums([[[[[1, 0], [0.25, 0.75]]]]], [[true, false]], [[1, 1]]); // { sums: [0.25], counts: [1] }
 */
export function imageAttentionSums(
  probs: ReadonlyArray<ReadonlyArray<ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>>>,
  image: ReadonlyArray<ReadonlyArray<boolean>>,
  mask: ReadonlyArray<ReadonlyArray<number>>,
  into: AttentionSums = { sums: [], counts: [] },
): AttentionSums {
  probs.forEach((layer, l) => {
    let sum = 0;
    let n = 0;
    layer.forEach((heads, b) =>
      heads.forEach((rows) =>
        rows.forEach((row, q) => {
          if (image[b]![q] || !mask[b]![q]) return;
          sum += row.reduce((s, p, k) => (image[b]![k] && mask[b]![k] ? s + p : s), 0);
          n++;
        }),
      ),
    );
    into.sums[l] = (into.sums[l] ?? 0) + sum;
    into.counts[l] = (into.counts[l] ?? 0) + n;
  });
  return into;
}

/** Mean mass per layer (NaN for a layer with no text query position). */
export const meanMass = (a: AttentionSums): number[] => a.sums.map((s, l) => (a.counts[l] ? s / a.counts[l]! : Number.NaN));
