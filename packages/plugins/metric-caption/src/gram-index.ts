// Integer ids for tokens and n-grams, so BLEU's and CIDEr-D's n-gram tables become typed arrays
// indexed by id instead of Maps keyed by joined strings. An n-gram's id is found from the exact
// pair (id of its first n - 1 tokens, id of its last token): equal n-grams get equal ids and
// different ones never share an id (the table compares both ints, the hash only picks the slot).

/** Slot layout: prefix id + 1 (0 marks a free slot, so a new table needs no fill), last token id, n-gram id. */
const STRIDE = 3;
const INITIAL_BITS = 12;

/**
 * murmur3's 32-bit finaliser over the two ids: spreads small sequential ids over all bits. The
 * slot is taken from the top bits, so doubling the table sends slot i to 2i or 2i + 1: a rehash
 * walks both tables front to back instead of scattering writes over a table larger than cache.
 */
function slotHash(prefix: number, token: number): number {
  let h = Math.imul(prefix, 0xcc9e2d51) ^ token;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Dense ids (0, 1, 2, …) shared by tokens (= their 1-grams) and longer n-grams.
 *
 * @example
 * const index = new GramIndex();
 * const a = index.token('a'), cat = index.token('cat');
 * index.extend(a, cat) === index.extend(index.token('a'), cat); // true: the id of "a cat"
 */
export class GramIndex {
  private readonly tokens = new Map<string, number>();
  /** Open addressing with linear probing, kept at most 3/4 full (a smaller table stays in cache). */
  private slots = new Int32Array(STRIDE << INITIAL_BITS);
  private bits = INITIAL_BITS;
  private mask = (1 << INITIAL_BITS) - 1;
  private pairs = 0;
  private next = 0;

  /** How many ids exist; every id is below it (size typed arrays indexed by id with it). */
  get size(): number {
    return this.next;
  }

  /** Id of a token, which is also the id of the 1-gram made of it. */
  token(token: string): number {
    let id = this.tokens.get(token);
    if (id === undefined) {
      id = this.next++;
      this.tokens.set(token, id);
    }
    return id;
  }

  /** Id of the n-gram `prefix` (an id from `token` or `extend`) followed by the token `token`. */
  extend(prefix: number, token: number): number {
    const slots = this.slots;
    const key = prefix + 1;
    let slot = slotHash(prefix, token) >>> (32 - this.bits);
    for (;;) {
      const at = slot * STRIDE;
      const p = slots[at]!;
      if (p === 0) break;
      if (p === key && slots[at + 1] === token) return slots[at + 2]!;
      slot = (slot + 1) & this.mask;
    }
    const id = this.next++;
    const at = slot * STRIDE;
    slots[at] = key;
    slots[at + 1] = token;
    slots[at + 2] = id;
    if (++this.pairs * 4 > this.mask * 3) this.rehash();
    return id;
  }

  private rehash(): void {
    const old = this.slots;
    const bits = this.bits + 1;
    const mask = (1 << bits) - 1;
    const slots = new Int32Array((mask + 1) * STRIDE);
    for (let at = 0; at < old.length; at += STRIDE) {
      const key = old[at]!;
      if (key === 0) continue;
      const token = old[at + 1]!;
      let slot = slotHash(key - 1, token) >>> (32 - bits);
      while (slots[slot * STRIDE] !== 0) slot = (slot + 1) & mask;
      slots[slot * STRIDE] = key;
      slots[slot * STRIDE + 1] = token;
      slots[slot * STRIDE + 2] = old[at + 2]!;
    }
    this.slots = slots;
    this.bits = bits;
    this.mask = mask;
  }
}
