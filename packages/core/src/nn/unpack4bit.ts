// A 4-bit blockwise weight decoded with tfjs ops only: the composite @mmft/core's Linear runs on
// engines without the MmftMatMul4bit kernel (tfjs-node, tfjs-node-gpu, webgl), so the decode runs
// where the engine runs, on the GPU under tfjs-node-gpu, with no read back to JavaScript. Same rule
// as bitsandbytes' dequantize_4bit (bitsandbytes/backends/default/ops.py: byte >> 4 for element 2j,
// byte & 0xF for 2j + 1, code[nibble] · absmax[i / blocksize] in float32).
import * as tf from '@tensorflow/tfjs-core';

// The nibble at bits 4j … 4j+3 of a word w is (w mod 2^(4j+4) − w mod 2^4j) / 2^4j (w itself for the
// top one, then mod 16 for its sign): a difference with at most four significant bits, so the
// division is exact even where an engine divides int32 in float32 (wasm's FloorDiv does), and
// mod is a floor modulo on every engine. Element 8w + e sits in byte e >> 1 of its word
// (little-endian, as the word was viewed), in the byte's high nibble when e is even.
const MODULI = [2 ** 4, 2 ** 8, 2 ** 12, 2 ** 16, 2 ** 20, 2 ** 24, 2 ** 28];
const SHIFTS = [1, 2 ** 4, 2 ** 8, 2 ** 12, 2 ** 16, 2 ** 20, 2 ** 24, 2 ** 28];

/**
 * W [rows, cols] float32 from the packed int32 words, the per-block float32 absmax and the 16-entry
 * code. Exact on engines that hold int32 as int32 (cpu, wasm, tfjs-node, tfjs-node-gpu); webgl keeps
 * int32 tensors as float32 textures, which cannot hold words above 2²⁴ exactly.
 *
 * @example
 * const w = dequantize4bitOps(packed, absmax, code, 3072, 768, 64); // [3072, 768]
 */
export function dequantize4bitOps(
  packed: tf.Tensor,
  absmax: tf.Tensor,
  code: tf.Tensor,
  rows: number,
  cols: number,
  blockSize: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const n = rows * cols;
    const blocks = Math.ceil(n / blockSize);
    const words = tf.expandDims(packed, 1);
    const below = tf.mod(words, tf.tensor1d(MODULI, 'int32')); // [W, 7]: w mod 2^4 … w mod 2^28
    const upper = tf.concat([below, words], 1);
    const lower = tf.concat([tf.zeros([packed.size, 1], 'int32'), below], 1);
    const byShift = tf.mod(tf.floorDiv(tf.sub(upper, lower), tf.tensor1d(SHIFTS, 'int32')), tf.scalar(16, 'int32')); // [W, 8]
    // Per byte: high nibble (shift 4) first, then low (shift 0).
    const nibbles = tf.reverse(tf.reshape(byShift, [-1, 4, 2]), 2);
    const values = tf.gather(code, tf.slice(tf.reshape(nibbles, [-1]), 0, n));
    const padded = blocks * blockSize > n ? tf.pad(values, [[0, blocks * blockSize - n]]) : values;
    const scaled = tf.mul(tf.reshape(padded, [blocks, blockSize]), tf.reshape(absmax, [blocks, 1]));
    return tf.reshape(tf.slice(tf.reshape(scaled, [-1]), 0, n), [rows, cols]);
  });
}
