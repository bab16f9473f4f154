// A 4-bit blockwise weight decoded with tfjs ops only: the composite @mmft/core's Linear runs on
// engines without the MmftMatMul4bit kernel (tfjs-node, tfjs-node-gpu, webgl), so the decode runs
// where the engine runs, on the GPU under tfjs-node-gpu, with no read back to JavaScript. Same rule
// as bitsandbytes' dequantize_4bit (bitsandbytes/backends/default/ops.py: byte >> 4 for element 2j,
// byte & 0xF for 2j + 1, code[nibble] · absmax[i / blocksize] in float32).
import * as tf from '@tensorflow/tfjs-core';

// Element 8w + e of int32 word w sits in byte e >> 1 of it (little-endian, as the word was viewed),
// in its high nibble when e is even: the word divided by 2^shift, mod 16. floorDiv is an arithmetic
// shift and mod a floor modulo, so words with the top bit set decode right too.
const NIBBLE_DIVISORS = [2 ** 4, 1, 2 ** 12, 2 ** 8, 2 ** 20, 2 ** 16, 2 ** 28, 2 ** 24];

/**
 * W [rows, cols] float32 from the packed int32 words, the per-block float32 absmax and the 16-entry
 * code. Exact on engines that hold int32 as int32 (cpu, wasm, tfjs-node, tfjs-node-gpu); webgl keeps
 * int32 tensors as float32 textures, which cannot hold words above 2²⁴ exactly.
 *
 * @example
 * const w = dequantize4bitOps(packed, absmax, code, 3072, 768, 64); // [3072, 768]
 */
export function dequantize4bitOps(packed: tf.Tensor, absmax: tf.Tensor, code: tf.Tensor, rows: number, cols: number, blockSize: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = rows * cols;
    const blocks = Math.ceil(n / blockSize);
    const nibbles = tf.mod(tf.floorDiv(tf.expandDims(packed, 1), tf.tensor1d(NIBBLE_DIVISORS, 'int32')), tf.scalar(16, 'int32'));
    const values = tf.gather(code, tf.slice(tf.reshape(nibbles, [-1]), 0, n));
    const padded = blocks * blockSize > n ? tf.pad(values, [[0, blocks * blockSize - n]]) : values;
    const scaled = tf.mul(tf.reshape(padded, [blocks, blockSize]), tf.reshape(absmax, [blocks, 1]));
    return tf.reshape(tf.slice(tf.reshape(scaled, [-1]), 0, n), [rows, cols]);
  });
}
