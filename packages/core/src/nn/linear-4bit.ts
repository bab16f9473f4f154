// The 4-bit side of Linear (storeWeight4bit): bitsandbytes' NF4/FP4 blockwise weight as the tensors
// the MmftMatMul4bit kernel reads, read back for a save, and the product x·Wᵀ through the kernel or,
// where the engine has none, through a composite of tfjs ops (unpack4bit.ts), as bitsandbytes'
// Linear4bit holds and multiplies its weight (bitsandbytes/nn/modules.py, autograd/_functions.py).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { MatMul4bit, runFused } from '../kernels';
import { absmaxFloat32, type QuantType4, type Quantized4bit } from '../quant';
import { dequantize4bitOps } from './unpack4bit';

/** A frozen weight [out, in] held in 4 bits (storeWeight4bit), as the kernels read it. */
export interface PackedWeight4bit {
  /** int32 [⌈⌈out·in/2⌉/4⌉]: the packed bytes (element 2j in the high nibble) viewed little-endian, zero-padded. */
  readonly packed: tf.Tensor;
  /** float32 [⌈out·in/blockSize⌉]: each block's scale (de-nested when double-quantised). */
  readonly absmax: tf.Tensor;
  /** float32 [16]: the quant_map. */
  readonly code: tf.Tensor;
  readonly quantType: QuantType4;
  readonly blockSize: number;
  /** Whether the absmax is stored double-quantised (8-bit codes, nested state). */
  readonly doubleQuant: boolean;
  /** The weight's shape [out, in]. */
  readonly shape: readonly [number, number];
}

/** What a Linear keeps of a 4-bit weight: the kernel tensors, how to put a float32 weight back, the stored fields. */
export interface Packed4 extends PackedWeight4bit {
  readonly variableName: string;
  readonly reattach: (variable: tf.Variable) => void;
  /** The stored form's small fields, kept on the host so a save writes the bytes it was given. */
  readonly stored: Omit<Quantized4bit, 'packed' | 'absmax'> & { absmax?: Uint8Array };
}

/**
 * The kernel tensors of `q` for a Linear weight [out, in] named `name` (packed bytes as int32 words,
 * de-nested float32 absmax, the code), the small fields kept on the host for a byte-exact save, and the
 * bytes the tensors take. A 4-bit weight of another shape is an E_SHAPE error naming the weight.
 */
export function packWeight4bit(
  q: Quantized4bit,
  name: string,
  outFeatures: number,
  inFeatures: number,
): { tensors: Pick<PackedWeight4bit, 'packed' | 'absmax' | 'code'>; stored: Packed4['stored']; bytes: number } {
  const size = outFeatures * inFeatures;
  const shapeOk = q.shape.length === 2 ? q.shape[0] === outFeatures && q.shape[1] === inFeatures : q.shape.length === 1;
  if (q.length !== size || !shapeOk || q.packed.length < Math.ceil(size / 2) || q.code.length !== 16) {
    throw new MmftError(
      'E_SHAPE',
      `Linear weight "${name}" is [${outFeatures}, ${inFeatures}]; the 4-bit weight given has shape ` +
        `[${q.shape.join(', ')}], ${q.length} elements, ${q.packed.length} packed bytes and a ${q.code.length}-entry code`,
      { hint: 'quantise the weight in its [out, in] orientation, as bitsandbytes does' },
    );
  }
  const scales = absmaxFloat32(q);
  const blocks = Math.ceil(size / q.blockSize);
  if (scales.length < blocks) {
    throw new MmftError('E_SHAPE', `Linear weight "${name}": ${blocks} absmax blocks of ${q.blockSize} expected, ${scales.length} given`);
  }
  const words = new Int32Array(Math.ceil(Math.ceil(size / 2) / 4));
  new Uint8Array(words.buffer).set(q.packed.subarray(0, Math.ceil(size / 2)));
  const tensors = {
    packed: tf.tensor1d(words, 'int32'),
    absmax: tf.tensor1d(scales.subarray(0, blocks), 'float32'),
    code: tf.tensor1d(q.code, 'float32'),
  };
  const { quantType, blockSize, length, shape, dtype, code, nested } = q;
  const stored = {
    quantType,
    blockSize,
    length,
    shape: [...shape],
    dtype,
    code: code.slice(),
    nested,
    ...(nested ? { absmax: q.absmax as Uint8Array } : {}),
  };
  return { tensors, stored, bytes: (words.length + blocks + 16) * 4 };
}

/**
 * The held weight as @mmft/core/quant's Quantized4bit: the packed bytes read back from their tensor
 * (the only copy), the rest as stored, so the bytes written equal the bytes loaded.
 */
export function quantizedOf(p: Packed4): Quantized4bit {
  const words = p.packed.dataSync() as Int32Array;
  const packed = new Uint8Array(words.buffer, words.byteOffset, Math.ceil(p.stored.length / 2)).slice();
  const absmax = p.stored.absmax ?? (p.absmax.dataSync() as Float32Array).slice();
  return { ...p.stored, shape: [...p.stored.shape], packed, absmax };
}

/** x[..., in] · Wᵀ for a 4-bit W [out, in]: the MmftMatMul4bit kernel where the engine has it, else the composite. */
export function matMul4bit(x: tf.Tensor, p: PackedWeight4bit): tf.Tensor {
  const [rows, cols] = p.shape;
  const attrs = { rows, cols, blockSize: p.blockSize, transposeWeight: true };
  const fused = x.dtype === 'float32' ? runFused(MatMul4bit, { x, packed: p.packed, absmax: p.absmax, code: p.code }, attrs) : undefined;
  return fused ?? composite4bit(x, p);
}

// Without the kernel: the weight decoded by tfjs ops on the engine itself (no read back), once
// for the product and again for the input gradient dy·W, so no float32 copy of W waits on the tape
// between the passes, as bitsandbytes' MatMul4Bit saves only the quantised weight
// (bitsandbytes/autograd/_functions.py).
function composite4bit(x: tf.Tensor, p: PackedWeight4bit): tf.Tensor {
  const [rows, cols] = p.shape;
  const weight = () => dequantize4bitOps(p.packed, p.absmax, p.code, rows, cols, p.blockSize);
  const product = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const w = weight();
    const value = tf.reshape(tf.matMul(tf.reshape(input, [-1, cols]), w, false, true), [...input.shape.slice(0, -1), rows]);
    w.dispose();
    const gradFunc = (dy: tf.Tensor) => tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(dy, [-1, rows]), weight()), input.shape));
    return { value, gradFunc };
  });
  return product(x);
}
