// A growable Int32Array: the flat stores of the caption metric (token ids, n-gram ids and counts,
// offsets) append here, so cooking a corpus allocates a few large arrays rather than a Map or an
// array per sentence.

/**
 * Append-only list of 32-bit integers; `data[0 .. length)` holds the values.
 *
 * @example
 * const l = new IntList(); l.push(7); l.data[0]; // 7
 */
export class IntList {
  /** Backing store; replaced when it grows, so read it again after `push`. */
  data: Int32Array<ArrayBuffer>;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) this.data = grown(this.data, this.length + 1);
    this.data[this.length++] = value;
  }
}

/**
 * `array` itself if it has at least `size` elements, else a copy at least twice as long whose new
 * elements are 0.
 *
 * @example
 * grown(new Int32Array(2), 3).length; // 4
 */
export function grown(array: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  if (array.length >= size) return array;
  const bigger = new Int32Array(Math.max(size, 2 * array.length));
  bigger.set(array);
  return bigger;
}
