// Seeded draws for sampling: the same seed gives the same tokens on every run and machine. The
// generator is xoshiro128** (Blackman & Vigna) seeded through splitmix32; it is a few lines, so core
// needs no dependency for it. Draws follow torch.multinomial's meaning (generation/utils.py `_sample`
// and `_get_top_k_continuations`): one category by probability, or k distinct ones without replacement.

/** A seeded stream of uniform numbers in [0, 1). */
export class SeededRandom {
  private readonly s = new Uint32Array(4);

  /** Without a seed the stream starts from Math.random (not reproducible). */
  constructor(seed?: number) {
    let x = (seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
    // A seed beyond 32 bits still matters: fold its high part in.
    if (seed !== undefined) x = (x ^ Math.floor(Math.abs(seed) / 2 ** 32)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * One index drawn with probability proportional to `weights` (non-negative, not necessarily summing
 * to 1). All-zero weights give index 0 instead of failing.
 *
 * @example
 * sampleIndex(new Float64Array([0.25, 0.75]), new SeededRandom(0)); // 1 about three times in four
 */
export function sampleIndex(weights: ArrayLike<number>, random: SeededRandom): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  if (!(total > 0)) return 0;
  let target = random.next() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    last = i;
    target -= w;
    if (target < 0) return i;
  }
  // Rounding can leave a sliver past the end: it belongs to the last index with weight.
  return last;
}

/**
 * `count` distinct indices drawn one after another without replacement (torch.multinomial with
 * replacement=False), in draw order. When the weight runs out, the remaining indices follow in index
 * order (torch would refuse; beam sampling over a filtered vocabulary can ask for more than remain).
 */
export function sampleWithoutReplacement(weights: ArrayLike<number>, count: number, random: SeededRandom): number[] {
  const w = Float64Array.from(weights as ArrayLike<number>);
  const picked: number[] = [];
  const taken = new Uint8Array(w.length);
  for (let n = 0; n < count; n++) {
    let total = 0;
    for (let i = 0; i < w.length; i++) total += w[i]!;
    let index: number;
    if (total > 0) {
      index = sampleIndex(w, random);
    } else {
      index = taken.indexOf(0);
      if (index < 0) break;
    }
    picked.push(index);
    taken[index] = 1;
    w[index] = 0;
  }
  return picked;
}
