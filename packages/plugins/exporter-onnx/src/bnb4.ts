// 4-bit Linears kept as onnxruntime's com.microsoft MatMulBnb4 (microsoft/onnxruntime
// docs/ContribOperators.md, com.microsoft.MatMulBnb4, opset 1 of the com.microsoft domain):
// attributes K (in_features), N (out_features), block_size (a power of 2, ≥ 16) and quant_type
// (0 = FP4, 1 = NF4); input B is the [N, K] weight flattened row-major and packed two 4-bit codes a
// byte, [(N·K + 1) / 2] uint8; absmax is one float per block, [(N·K + block_size − 1) / block_size],
// of A's type; Y = A · dequant(B)ᵀ with transB left at its default 1. That is bitsandbytes' own layout
// (the element 2j in the high nibble, blocks over the flattened [out, in] weight), which core's
// Quantized4bit holds as loaded or quantised (packages/core/src/quant/bnb4.ts), so the bytes are
// written as they are; a double-quantised absmax is expanded to float32 first (absmaxFloat32), as
// the op takes plain scales. The kernel has the standard NF4 / FP4 tables built in, so a weight with
// any other quant_map is refused, and onnxruntime's CPU kernel (contrib_ops/cpu/quantization,
// DequantizeBlockwiseBnb4) handles block sizes 16 … 256 only, so 512 and up are refused too.
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { quantizedWeights4bit } from '@mmft/core/nn';
import { absmaxFloat32, codeOf, type Quantized4bit } from '@mmft/core/quant';
import type { OnnxGraph } from './onnx/graph';
import { useLinearHook } from './onnx/layers';

/** Block sizes onnxruntime's CPU MatMulBnb4 kernel dequantises. */
export const BNB4_BLOCK_SIZES: readonly number[] = [16, 32, 64, 128, 256];
/** MatMulBnb4's quant_type attribute. */
export const BNB4_QUANT_TYPE = { fp4: 0, nf4: 1 } as const;
/** The opset import a graph with MatMulBnb4 needs. */
export const BNB4_OPSETS: Readonly<Record<string, number>> = { 'com.microsoft': 1 };

/** Refuses a 4-bit weight MatMulBnb4 cannot hold exactly, naming the weight. */
export function checkBnb4(q: Quantized4bit, name: string): void {
  if (!BNB4_BLOCK_SIZES.includes(q.blockSize)) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${name}: 4-bit block size ${q.blockSize}; onnxruntime's CPU MatMulBnb4 kernel supports ${BNB4_BLOCK_SIZES.join(', ')} only`,
      {
        hint: "export without --keep-4bit (the weight is dequantised to float32), or quantise with a block size of at most 256 (64 is bitsandbytes' default)",
      },
    );
  }
  const standard = codeOf(q.quantType);
  if (q.code.length !== 16 || q.code.some((v, i) => v !== standard[i])) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${name}: its quant_map is not bitsandbytes' standard ${q.quantType} table, which MatMulBnb4 has built in`,
      {
        hint: 'export without --keep-4bit to dequantise it to float32',
      },
    );
  }
  if (q.shape.length !== 2 || q.shape[0]! * q.shape[1]! !== q.length) {
    throw new MmftError(
      'E_SHAPE',
      `${name}: a 4-bit Linear weight must be [out, in], got shape [${q.shape.join(', ')}] for ${q.length} elements`,
    );
  }
}

/**
 * x[..., K] · Wᵀ for the 4-bit W [N, K] as one MatMulBnb4 node; its initializers are
 * `${prefix}.weight_Bnb4` (packed codes) and `${prefix}.weight_absmax` (float32 scales).
 *
 * @example
 * const y = matMulBnb4(g, x, quantizeNf4(weights, { shape: [N, K] }), 'model.layers.0.mlp.up_proj');
 */
export function matMulBnb4(g: OnnxGraph, x: string, q: Quantized4bit, prefix: string): string {
  checkBnb4(q, `${prefix}.weight`);
  const [n, k] = q.shape as [number, number];
  const bytes = Math.ceil(q.length / 2);
  const blocks = Math.ceil(q.length / q.blockSize);
  const packed = g.initializer(`${prefix}.weight_Bnb4`, { dtype: 'uint8', dims: [bytes], data: q.packed.slice(0, bytes) });
  const absmax = g.initializer(`${prefix}.weight_absmax`, { dtype: 'float32', dims: [blocks], data: absmaxFloat32(q).slice(0, blocks) });
  return g.op1(
    'MatMulBnb4',
    [x, packed, absmax],
    { K: k, N: n, block_size: q.blockSize, quant_type: BNB4_QUANT_TYPE[q.quantType] },
    {
      domain: 'com.microsoft',
      name: `/${prefix}/MatMulBnb4`,
    },
  );
}

/**
 * The model's 4-bit Linear weights by state-dict name, each checked for MatMulBnb4 (so a refusal
 * comes before anything is written).
 */
export function bnb4Weights(model: VisionLanguageModel): Map<string, Quantized4bit> {
  const weights = quantizedWeights4bit(model.root);
  for (const [name, q] of weights) checkBnb4(q, name);
  return weights;
}

/**
 * Makes every `linear` of `g` whose weight `${prefix}${layer}.weight` is in `weights` a MatMulBnb4
 * (the others stay MatMul). `prefix` is what the graph's weight names leave out ("language_model."
 * for the decoder of a vision-language model).
 */
export function useBnb4Linears(g: OnnxGraph, weights: ReadonlyMap<string, Quantized4bit>, prefix = ''): void {
  useLinearHook(g, (graph, x, layer) => {
    const q = weights.get(`${prefix}${layer}.weight`);
    return q ? matMulBnb4(graph, x, q, layer) : undefined;
  });
}
