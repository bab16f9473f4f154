// A fully connected layer y = x Wᵀ + b with W stored [out, in] as in PyTorch and HF checkpoints,
// so weights load without transposition. Follows torch/nn/modules/linear.py (layout and
// reset_parameters defaults). Runs as one fused kernel (product, bias, any input rank) where the
// active tfjs backend registers one (@mmft/backend-tfjs does for wasm with its native addon, with
// gradients), else as tfjs's reshape, matMul and add. A frozen weight may be held in 16 bits
// (storeWeight16: bf16 or fp16 patterns packed in an int32 tensor, packed16.ts) and is then decoded
// inside the MmftMatMulPacked16 kernel where the backend registers one, else into a temporary
// float32 tensor per call. A frozen weight may also be held in 4 bits (storeWeight4bit: bitsandbytes'
// NF4/FP4 blockwise format, @mmft/core/quant), as bitsandbytes' Linear4bit holds it
// (bitsandbytes/nn/modules.py), and is then decoded inside the MmftMatMul4bit kernel, else by a
// composite of tfjs ops (linear-4bit.ts, unpack4bit.ts).

import * as tf from '@tensorflow/tfjs-core';
import { assertThat, MmftError } from '../errors';
import { Linear as LinearKernel, LinearNoBias, MatMulPacked16, runFused } from '../kernels';
import { dequantize4bit, type Quantized4bit } from '../quant';
import { fanInUniform, type Initializer } from './init';
import { Module } from './module';
import { packBits16, packedLength, packWeights16, unpackWeights16, type Half16Format } from './packed16';
import { matMul4bit, packWeight4bit, quantizedOf, type Packed4, type PackedWeight4bit } from './linear-4bit';

export type { PackedWeight4bit } from './linear-4bit';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias [out] (default true). */
  bias?: boolean;
  /** Seed for the default initialisers (weight uses `seed`, bias `seed + 1`). */
  seed?: number;
  /** Overrides PyTorch's default U(-1/√in, 1/√in) for the weight. */
  weightInit?: Initializer;
  /** Overrides PyTorch's default U(-1/√in, 1/√in) for the bias. */
  biasInit?: Initializer;
}

/** A frozen weight [out, in] held in 16 bits: its bf16 or fp16 patterns, two per int32 element. */
export interface PackedWeight16 {
  /** int32 [⌈out·in / 2⌉], element 2i in the low half (packed16.ts). */
  readonly bits: tf.Tensor;
  readonly format: Half16Format;
  /** The weight's shape [out, in]. */
  readonly shape: readonly [number, number];
}

interface Packed extends PackedWeight16 {
  readonly variableName: string;
  readonly reattach: (variable: tf.Variable) => void;
}

/**
 * Maps x[..., in] to y[..., out] for inputs of any rank.
 *
 * @example
 * const fc = new Linear(768, 3072, { seed: 1 });
 * const y = fc.forward(tf.zeros([2, 50, 768])); // [2, 50, 3072]
 */
export class Linear extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const init = fanInUniform(inFeatures);
    const seed = options.seed;
    this.createParameter('weight', [outFeatures, inFeatures], options.weightInit ?? init, { seed });
    if (options.bias ?? true) {
      this.createParameter('bias', [outFeatures], options.biasInit ?? init, { seed: seed === undefined ? undefined : seed + 1 });
    }
  }

  private packed?: Packed;
  private packed4?: Packed4;

  /** The weight [out, in]; an error while it is held in 16 or 4 bits (restoreWeight32 first). */
  get weight(): tf.Variable {
    if (this.packed4) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `Linear(${this.inFeatures} → ${this.outFeatures}) holds its frozen weight in 4 bits (${this.packed4.quantType}); ` +
          'it has no float32 weight to read or change now',
        { hint: 'call restoreWeight32() on the layer (it dequantises) before merging into, saving in float32 or editing it' },
      );
    }
    if (this.packed) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `Linear(${this.inFeatures} → ${this.outFeatures}) holds its frozen weight in ${this.packed.format} (frozen_dtype); ` +
          'it has no float32 weight to read or change now',
        { hint: 'call restoreWeight32() on the layer, or restoreFrozenWeights32(root) on the model, before merging, saving or editing it' },
      );
    }
    return this.param('weight');
  }

  /** The weight in its 16-bit form, while it is held so (storeWeight16). */
  get packedWeight(): PackedWeight16 | undefined {
    return this.packed;
  }

  /**
   * Holds the frozen weight in `format` (bf16 or fp16, rounded to nearest even once) instead of
   * float32, and frees the float32 variable: the weight leaves the state dict until
   * restoreWeight32(). `bits` gives 16-bit patterns to keep as they are (a BF16 or F16
   * checkpoint's) instead of rounding the current values. Returns the bytes freed (0 when the
   * weight is already held in `format`).
   *
   * @example
   * fc.weight.trainable = false;
   * fc.storeWeight16('bf16'); // 2·out·in bytes freed
   */
  storeWeight16(format: Half16Format, bits?: Uint16Array): number {
    if (this.packed4) {
      throw new MmftError('E_CONFIG', `Linear(${this.inFeatures} → ${this.outFeatures}) already holds its weight in 4 bits`, {
        hint: 'restoreWeight32() first to hold it in 16 bits instead',
      });
    }
    if (this.packed) {
      if (this.packed.format === format) return 0;
      throw new MmftError(
        'E_CONFIG',
        `Linear(${this.inFeatures} → ${this.outFeatures}) already holds its weight in ${this.packed.format}, not ${format}`,
        {
          hint: 'restoreWeight32() first to change the 16-bit format',
        },
      );
    }
    const weight = this.param('weight');
    if (weight.trainable) {
      throw new MmftError('E_CONFIG', `Linear weight "${weight.name}" is trainable; only frozen weights can be held in 16 bits`, {
        hint: 'freeze the weight first (frozen_dtype applies to weights the optimizer does not update)',
      });
    }
    const size = weight.size;
    if (bits && bits.length !== size) {
      throw new MmftError('E_SHAPE', `Linear weight "${weight.name}" has ${size} values; ${bits.length} 16-bit patterns were given for it`);
    }
    const packedValues = bits ? packBits16(bits) : packWeights16(weight.dataSync() as Float32Array, format);
    const tensor = tf.tensor1d(packedValues, 'int32');
    const { reattach } = this.detachParameter('weight');
    const variableName = weight.name;
    weight.dispose();
    this.packed = { bits: tensor, format, shape: [this.outFeatures, this.inFeatures], variableName, reattach };
    return size * 4 - packedLength(size) * 4;
  }

  /** The weight in its 4-bit form, while it is held so (storeWeight4bit): the tensors the kernels read. */
  get packedWeight4bit(): PackedWeight4bit | undefined {
    return this.packed4;
  }

  /**
   * The 4-bit weight as @mmft/core/quant's Quantized4bit, for a save: the packed bytes are read back
   * from their tensor (the only copy), the rest is what storeWeight4bit was given, so the bytes
   * written equal the bytes loaded. Undefined unless the weight is held in 4 bits.
   */
  get quantizedWeight(): Quantized4bit | undefined {
    return this.packed4 ? quantizedOf(this.packed4) : undefined;
  }

  /**
   * Holds the frozen weight in bitsandbytes' 4-bit format instead of float32, as `q` gives it
   * (quantize4bit of this weight's values, or a 4-bit checkpoint's tensors), and frees the float32
   * variable: the weight leaves the state dict until restoreWeight32(). Forward passes then decode it
   * inside MmftMatMul4bit, or with tfjs ops where the backend lacks the kernel; x alone gets a
   * gradient. Returns the bytes freed (float32 weight minus what the 4-bit tensors take).
   *
   * @example
   * fc.weight.trainable = false;
   * fc.storeWeight4bit(quantizeNf4(fc.weight.dataSync() as Float32Array, { doubleQuant: true, shape: [fc.outFeatures, fc.inFeatures] }));
   */
  storeWeight4bit(q: Quantized4bit): number {
    const name = `Linear(${this.inFeatures} → ${this.outFeatures})`;
    if (this.packed || this.packed4) {
      throw new MmftError('E_CONFIG', `${name} already holds its weight in ${this.packed ? this.packed.format : '4 bits'}`, {
        hint: 'restoreWeight32() first, then store it in 4 bits',
      });
    }
    const weight = this.param('weight');
    if (weight.trainable) {
      throw new MmftError('E_CONFIG', `Linear weight "${weight.name}" is trainable; only frozen weights can be held in 4 bits`, {
        hint: 'freeze the weight first (QLoRA quantises the base weights the optimizer does not update)',
      });
    }
    const { tensors, stored, bytes } = packWeight4bit(q, weight.name, this.outFeatures, this.inFeatures);
    const { reattach } = this.detachParameter('weight');
    const variableName = weight.name;
    weight.dispose();
    this.packed4 = {
      ...tensors,
      quantType: q.quantType,
      blockSize: q.blockSize,
      doubleQuant: q.nested !== undefined,
      shape: [this.outFeatures, this.inFeatures],
      variableName,
      reattach,
      stored,
    };
    return this.outFeatures * this.inFeatures * 4 - bytes;
  }

  /** Decodes a 16-bit weight back to a float32 variable (exactly), or dequantises a 4-bit one, in its old place; no-op otherwise. */
  restoreWeight32(): void {
    const packed4 = this.packed4;
    if (packed4) {
      const values = dequantize4bit(this.quantizedWeight!);
      const variable = tf.tidy(() => tf.variable(tf.tensor2d(values, [...packed4.shape]), false, packed4.variableName));
      packed4.reattach(variable);
      tf.dispose([packed4.packed, packed4.absmax, packed4.code]);
      this.packed4 = undefined;
      return;
    }
    const packed = this.packed;
    if (!packed) return;
    const size = this.outFeatures * this.inFeatures;
    const values = unpackWeights16(packed.bits.dataSync() as Int32Array, size, packed.format);
    const variable = tf.tidy(() => tf.variable(tf.tensor2d(values, [...packed.shape]), false, packed.variableName));
    packed.reattach(variable);
    packed.bits.dispose();
    this.packed = undefined;
  }

  override dispose(): void {
    super.dispose();
    if (this.packed && !this.packed.bits.isDisposed) this.packed.bits.dispose();
    if (this.packed4) tf.dispose([this.packed4.packed, this.packed4.absmax, this.packed4.code].filter((t) => !t.isDisposed));
  }

  /** The bias [out], if the layer has one. */
  get bias(): tf.Variable | undefined {
    return this.hasParam('bias') ? this.param('bias') : undefined;
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertThat(
      x.rank >= 1 && x.shape[x.rank - 1] === this.inFeatures,
      'E_SHAPE',
      () =>
        `Linear(${this.inFeatures} → ${this.outFeatures}) got input of shape [${x.shape.join(', ')}]; ` +
        `its last dimension must be ${this.inFeatures}`,
    );
    const bias = this.bias;
    if (this.packed) return this.forwardPacked(x, this.packed, bias);
    if (this.packed4) return this.forward4bit(x, this.packed4, bias);
    if (x.dtype === 'float32' && this.weight.dtype === 'float32') {
      const fused = bias ? runFused(LinearKernel, { x, weight: this.weight, bias }) : runFused(LinearNoBias, { x, weight: this.weight });
      if (fused) return fused;
    }
    return tf.tidy(() => {
      const x2d = tf.reshape(x, [-1, this.inFeatures]);
      // transposeB reads W [out, in] as Wᵀ without materialising a transposed copy.
      let y = tf.matMul(x2d, this.weight, false, true);
      if (bias) y = tf.add(y, bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }

  private forwardPacked(x: tf.Tensor, packed: Packed, bias: tf.Variable | undefined): tf.Tensor {
    const attrs = { rows: this.outFeatures, cols: this.inFeatures, format: packed.format, transposeWeight: true };
    return tf.tidy(() => {
      const fused = x.dtype === 'float32' ? runFused(MatMulPacked16, { x, weight: packed.bits }, attrs) : undefined;
      let y: tf.Tensor;
      if (fused) {
        y = fused;
      } else {
        // No kernel on this backend: a float32 copy per call, freed after it outside a gradient
        // call, but kept by the tape (matMul saves it) until the gradient call ends in training.
        // It hangs off no variable, so x alone gets a gradient.
        const values = unpackWeights16(packed.bits.dataSync() as Int32Array, this.outFeatures * this.inFeatures, packed.format);
        const weight = tf.tensor2d(values, [this.outFeatures, this.inFeatures]);
        y = tf.reshape(tf.matMul(tf.reshape(x, [-1, this.inFeatures]), weight, false, true), [...x.shape.slice(0, -1), this.outFeatures]);
      }
      return bias ? tf.add(y, bias) : y;
    });
  }

  private forward4bit(x: tf.Tensor, p: Packed4, bias: tf.Variable | undefined): tf.Tensor {
    return tf.tidy(() => {
      const y = matMul4bit(x, p);
      return bias ? tf.add(y, bias) : y;
    });
  }
}
