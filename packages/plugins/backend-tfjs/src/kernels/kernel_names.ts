// Names of the tfjs kernels mmft replaces, one place to list them (as tfjs-core's
// src/kernel_names.ts does for the stock kernels). Overrides keep tfjs's names and signatures.
import { BatchMatMul as TfjsBatchMatMul } from '@tensorflow/tfjs-core';

/** tfjs's matrix product kernel (tf.matMul and its gradients call it). */
export const BatchMatMul: typeof TfjsBatchMatMul = TfjsBatchMatMul;

export type { BatchMatMulAttrs, BatchMatMulInputs } from '@tensorflow/tfjs-core';

/** Sum of rows by segment id: the gradient of tf.gather (embeddings) needs it; wasm lacks it. */
export { UnsortedSegmentSum } from '@tensorflow/tfjs-core';
export type { UnsortedSegmentSumAttrs, UnsortedSegmentSumInputs } from '@tensorflow/tfjs-core';

/** Sum over axes; overridden on wasm for leading-axis reductions (bias and LayerNorm gradients). */
export { Sum } from '@tensorflow/tfjs-core';
export type { SumAttrs, SumInputs } from '@tensorflow/tfjs-core';
