// Which source each position of a mixed dataset draws from. The sequences follow Hugging Face
// datasets' `_concatenate_map_style_datasets` / `_interleave_map_style_datasets`
// (huggingface/datasets src/datasets/arrow_dataset.py), which LLaMA-Factory's `merge_dataset` calls:
// without probabilities the sources take turns (min or max rounds); with them a seeded draw per step,
// a source's position wrapping to 0 when it runs out, stopping at the first (under) or once every
// source (over) has run out. The draws use core's SeededRandom, not numpy's generator.
import { MmftError } from '@mmft/core';
import { SeededRandom, sampleIndex } from '@mmft/core/generation';
import type { MixStrategy } from './config';

/** More positions than this means a probability too small to ever exhaust its source. */
const MAX_POSITIONS = 50_000_000;

export interface PlanOptions {
  readonly strategy: MixStrategy;
  readonly probabilities?: readonly number[];
  readonly seed: number;
}

/**
 * The source index of every position, unshuffled.
 *
 * @example
 * planSources([3, 4, 5], { strategy: 'interleave_under', seed: 0 }); // [0,1,2, 0,1,2, 0,1,2]
 */
export function planSources(sizes: readonly number[], options: PlanOptions): Int32Array {
  if (options.strategy === 'concat') {
    const labels = new Int32Array(sizes.reduce((a, b) => a + b, 0));
    let at = 0;
    sizes.forEach((n, i) => labels.fill(i, at, (at += n)));
    return labels;
  }
  const empty = sizes.findIndex((n) => n === 0);
  if (empty >= 0) {
    throw new MmftError('E_DATA', `mix: sources[${empty}] has no examples; ${options.strategy} needs examples in every source`, {
      hint: 'remove the empty source, or use strategy concat',
    });
  }
  const over = options.strategy === 'interleave_over';
  if (options.probabilities === undefined) {
    const rounds = over ? Math.max(...sizes) : Math.min(...sizes);
    const labels = new Int32Array(rounds * sizes.length);
    for (let r = 0; r < rounds; r++) for (let i = 0; i < sizes.length; i++) labels[r * sizes.length + i] = i;
    return labels;
  }
  const random = new SeededRandom(options.seed);
  const exhausted = sizes.map(() => false);
  const next = sizes.map(() => 0);
  const labels: number[] = [];
  const stop = () => (over ? exhausted.every(Boolean) : exhausted.some(Boolean));
  while (!stop()) {
    if (labels.length >= MAX_POSITIONS)
      throw new MmftError('E_CONFIG', `mix: the interleave draws passed ${MAX_POSITIONS} positions without stopping`, {
        hint: 'a source with a tiny probability takes too long to run out: raise its probability or use interleave_under',
      });
    const i = sampleIndex(options.probabilities, random);
    labels.push(i);
    if (++next[i]! >= sizes[i]!) {
      exhausted[i] = true;
      next[i] = 0;
    }
  }
  return Int32Array.from(labels);
}

/** One 32-bit seed from several integers (a splitmix-style mix, so nearby inputs give unrelated seeds). */
export function mixSeeds(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = (h ^ (Math.floor(part) >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** A seeded uniform permutation (Fisher–Yates) of `labels`: a random interleave of the sources with the same counts. */
export function shuffleSources(labels: Int32Array, seed: number): Int32Array {
  const out = Int32Array.from(labels);
  const random = new SeededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
