// Seeded randomness for augmentation and synthetic data. Built on pure-rand's xoroshiro128+ so a
// (seed, index) pair always gives the same draws, whichever worker runs the image.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** A small seeded random source: same seed, same sequence. */
export class SeededRng {
  private readonly generator: RandomGenerator;

  /**
   * @example
   * const rng = new SeededRng(deriveSeed(42, 7));
   * rng.int(0, 3); rng.float(); rng.pick(['a', 'b']);
   */
  constructor(seed: number) {
    this.generator = xoroshiro128plus(seed | 0);
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return uniformFloat64(this.generator);
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.float();
  }

  /** Uniform integer in [low, high], both included. */
  int(low: number, high: number): number {
    return uniformInt(this.generator, low, high);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

/**
 * A per-item seed from a base seed and indices (e.g. epoch, example index): a 32-bit mix so
 * neighbouring indices get unrelated streams (murmur3's fmix32 finaliser).
 *
 * @example
 * new SeededRng(deriveSeed(seed, epoch, index));
 */
export function deriveSeed(seed: number, ...indices: number[]): number {
  let h = seed >>> 0;
  for (const index of indices) {
    h = Math.imul(h ^ (index >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h | 0;
}
