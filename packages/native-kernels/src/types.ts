// The operand layouts and the typed surface of the native kernels (one method per addon symbol,
// kernels.ts); index.ts loads the addon and wraps each symbol to this surface.

/** Where an operand's element (slice b, row r, column c) lies: offset + b·batch + r·row + c·col floats. */
export interface StridedOperand {
  readonly offset: number;
  readonly batch: number;
  readonly row: number;
  readonly col: number;
}

/**
 * Multi-head attention over Q [batch, queries, heads·headDim] and K, V [batch, keys, heads·headDim]
 * with an additive mask: the row for (b, h, t) starts b·batch + h·head + t·row floats after the
 * mask's offset (a stride of 0 broadcasts; each row has `keys` floats). The logits are
 * Q·Kᵀ·scale; logits plus mask below `minValue` are raised to it.
 */
export interface AttentionOperands {
  readonly batch: number;
  readonly heads: number;
  readonly queries: number;
  readonly keys: number;
  readonly headDim: number;
  readonly mask: { readonly batch: number; readonly head: number; readonly row: number };
  readonly scale: number;
  readonly minValue: number;
}

/**
 * A softmax over the last axis of [batch, heads, rows, cols], with an optional additive mask: at
 * `mask.offset`, the row for (b, h, r) starts b·batch + h·head + r·row floats further (a stride of
 * 0 broadcasts that axis; each mask row has `cols` floats).
 */
export interface SoftmaxOperands {
  readonly batch: number;
  readonly heads: number;
  readonly rows: number;
  readonly cols: number;
  readonly mask?: { readonly offset: number; readonly batch: number; readonly head: number; readonly row: number };
  /** Logits below this after adding the mask are raised to it (ignored without a mask). */
  readonly minValue: number;
}

/** A cross-entropy over `rows` rows of `cols` logits; rows labelled `ignoreIndex` score 0 (-100 in transformers). */
export interface CrossEntropyOperands {
  readonly rows: number;
  readonly cols: number;
  readonly ignoreIndex: number;
}

/** A product with a 16-bit weight: x [m, k], W [rows, cols] read transposed (k = cols) or not (k = rows). */
export interface PackedMatMulOperands {
  readonly m: number;
  readonly rows: number;
  readonly cols: number;
  readonly format: 'bf16' | 'fp16';
  readonly transposeW: boolean;
}

/** A product with a 4-bit blockwise weight: x [m, k], W [rows, cols] read transposed (k = cols) or not (k = rows). */
export interface MatMul4bitOperands {
  readonly m: number;
  readonly rows: number;
  readonly cols: number;
  /** Elements per absmax block, a power of two. */
  readonly blockSize: number;
  readonly transposeW: boolean;
}

/** Hyper-parameters of one AdamW step (as torch.optim.AdamW; `step` counts from 1). */
export interface AdamWParams {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly step: number;
}

/**
 * Below this many elements the fused kernels (layerNorm, layerNormGrad, adamwUpdate) run on one
 * thread: waking the pool costs more than the split saves (measured, see docs/backends.md).
 */
export const FUSED_PARALLEL_MIN_ELEMENTS = 131072;

/** The loaded kernels, one wrapper per addon symbol (kernels.ts), each choosing its thread count. */
export interface NativeKernels {
  /** Instruction set the GEMM micro-kernel runs on: avx512, avx2 or generic. */
  readonly isa: string;
  /** Threads a kernel uses (MMFT_NATIVE_THREADS, else the cores Node may use). */
  readonly threads: number;
  /**
   * C[b] = A[b]·B[b] for `batches` slices: A is m×k, B is k×n (any strides, so transposes are
   * free), C is written row-major m×n at `cOffset` with slice stride m·n. A batch stride of 0
   * broadcasts that operand. All offsets and strides count floats of `heap`; out-of-range
   * operands throw a RangeError.
   *
   * @example
   * kernels.MmftGemm(heap, 1, 2, 2, 3, { offset: 0, batch: 0, row: 3, col: 1 }, { offset: 6, batch: 0, row: 2, col: 1 }, 12);
   */
  MmftGemm(
    heap: Float32Array,
    batches: number,
    m: number,
    n: number,
    k: number,
    a: StridedOperand,
    b: StridedOperand,
    cOffset: number,
  ): void;
  /**
   * LayerNorm over rows: y = (x − mean) / √(var + eps) · gamma + beta for `rows` rows of `cols`
   * floats at `xOffset` (biased variance, float64 statistics, as torch), written at `yOffset`;
   * gamma and beta are `cols` floats. Offsets count floats of `heap`; out-of-range operands throw
   * a RangeError.
   *
   * @example
   * kernels.MmftLayerNorm(heap, xOffset, gammaOffset, betaOffset, yOffset, 2080, 128, 1e-5);
   */
  MmftLayerNorm(
    heap: Float32Array,
    xOffset: number,
    gammaOffset: number,
    betaOffset: number,
    yOffset: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /**
   * Gradients of layerNorm for upstream `dy` (rows × cols): dx (rows × cols), dgamma and dbeta
   * (cols each), in one pass over the rows (statistics recomputed). Bounds-checked like gemm.
   *
   * @example
   * kernels.MmftLayerNormGrad(heap, dyOffset, xOffset, gammaOffset, dxOffset, dgammaOffset, dbetaOffset, 2080, 128, 1e-5);
   */
  MmftLayerNormGrad(
    heap: Float32Array,
    dyOffset: number,
    xOffset: number,
    gammaOffset: number,
    dxOffset: number,
    dgammaOffset: number,
    dbetaOffset: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /**
   * One torch.optim.AdamW step of `n` floats: parameter, gradient, first and second moments at
   * the first four offsets, the new parameter and moments written at the last three (which may
   * equal the inputs'). Float64 arithmetic, moments rounded to float32 as stored. Bounds-checked.
   *
   * @example
   * kernels.MmftAdamWUpdate(heap, { p, g, m, v }, { p: p2, m: m2, v: v2 }, 16384, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 });
   */
  MmftAdamWUpdate(
    heap: Float32Array,
    inputs: { readonly p: number; readonly g: number; readonly m: number; readonly v: number },
    outputs: { readonly p: number; readonly m: number; readonly v: number },
    n: number,
    params: AdamWParams,
  ): void;
  /**
   * Column sums of a row-major `rows` × `cols` matrix at `xOffset` into `cols` floats at
   * `outOffset` (float64 partial sums): the bias gradient. Bounds-checked.
   *
   * @example
   * kernels.MmftSumRows(heap, dyOffset, dbOffset, 2080, 128);
   */
  MmftSumRows(heap: Float32Array, xOffset: number, outOffset: number, rows: number, cols: number): void;
  /**
   * out = a + b for `n` floats of a, where b has `m` floats repeated (m = n: same shape; m = the
   * last axis: a bias). m must divide n. Bounds-checked.
   *
   * @example
   * kernels.MmftAddRepeated(heap, xOffset, biasOffset, yOffset, 2080 * 128, 128);
   */
  MmftAddRepeated(heap: Float32Array, aOffset: number, bOffset: number, outOffset: number, n: number, m: number): void;
  /**
   * Σ x² over several arrays of `heap` (each at offsets[i] with sizes[i] floats), summed in
   * float64, arrays split over threads: a gradient's global norm is its square root. Bounds-checked.
   *
   * @example
   * const norm = Math.sqrt(kernels.MmftSumOfSquares(heap, Float64Array.of(o1, o2), Float64Array.of(n1, n2)));
   */
  MmftSumOfSquares(heap: Float32Array, offsets: Float64Array, sizes: Float64Array): number;
  /** y = x·σ(1.702·x) (CLIP's quick_gelu) for `n` floats. Bounds-checked. */
  MmftQuickGelu(heap: Float32Array, xOffset: number, yOffset: number, n: number): void;
  /** dx = dy·(s + 1.702·x·s·(1 − s)), s = σ(1.702·x), for `n` floats. Bounds-checked. */
  MmftQuickGeluGrad(heap: Float32Array, dyOffset: number, xOffset: number, dxOffset: number, n: number): void;
  /**
   * y = softmax over the last axis of x, or of max(x + mask, minValue) with a mask. Bounds-checked.
   *
   * @example
   * kernels.MmftSoftmax(heap, xOffset, yOffset, { batch: 32, heads: 4, rows: 32, cols: 32, mask: { offset, batch: 1024, head: 0, row: 32 }, minValue: -3.4e38 });
   */
  MmftSoftmax(heap: Float32Array, xOffset: number, yOffset: number, operands: SoftmaxOperands): void;
  /**
   * context [B, T, D] = P·V per head, P = softmax(max(Q·Kᵀ·scale + mask, minValue)), reading
   * and writing heads in place in the [B, T, D] layout. P is not kept. Bounds-checked.
   *
   * @example
   * kernels.MmftAttention(heap, { q, k, v, mask, context }, { batch: 32, heads: 4, queries: 65, keys: 65, headDim: 32, mask: { batch: 0, head: 0, row: 0 }, scale: 0.177, minValue: -3.4e38 });
   */
  MmftAttention(
    heap: Float32Array,
    at: { readonly q: number; readonly k: number; readonly v: number; readonly mask: number; readonly context: number },
    operands: AttentionOperands,
  ): void;
  /** dq, dk, dv of attention for upstream dContext (P recomputed from Q, K and the mask). Bounds-checked. */
  MmftAttentionGrad(
    heap: Float32Array,
    at: {
      readonly dContext: number;
      readonly q: number;
      readonly k: number;
      readonly v: number;
      readonly mask: number;
      readonly dq: number;
      readonly dk: number;
      readonly dv: number;
    },
    operands: AttentionOperands,
  ): void;
  /**
   * dx = y·(dy − Σ dy·y) for the softmax of the same operands, zero where x + mask < minValue
   * (x is read only with a mask). Bounds-checked.
   */
  MmftSoftmaxGrad(
    heap: Float32Array,
    offsets: { readonly dy: number; readonly y: number; readonly x: number; readonly dx: number },
    operands: SoftmaxOperands,
  ): void;
  /**
   * Cross-entropy of `rows` rows of `cols` logits against int32 labels (the labels share the heap:
   * their offset counts 4-byte elements too): lse = log Σ exp(x) per row and loss = lse − x[label],
   * 0 where the label is `ignoreIndex`, NaN where it is outside [0, cols). Bounds-checked.
   *
   * @example
   * kernels.MmftCrossEntropy(heap, { logits, labels, loss, lse }, { rows: 2048, cols: 32000, ignoreIndex: -100 });
   */
  MmftCrossEntropy(
    heap: Float32Array,
    at: { readonly logits: number; readonly labels: number; readonly loss: number; readonly lse: number },
    operands: CrossEntropyOperands,
  ): void;
  /**
   * dlogits = exp(x − lse)·(dy + dlse) − onehot(label)·dy per row (the gradient of both outputs)
   * from the logits and the forward pass's lse; dy does not reach ignored rows (0 there when dlse
   * is); NaN on rows with an invalid label. Bounds-checked.
   */
  MmftCrossEntropyGrad(
    heap: Float32Array,
    at: {
      readonly dy: number;
      readonly dlse: number;
      readonly logits: number;
      readonly labels: number;
      readonly lse: number;
      readonly dx: number;
    },
    operands: CrossEntropyOperands,
  ): void;
  /**
   * y [m, n] = x [m, k]·Wᵀ (`transposeW`: W [rows, cols] = [n, k]) or x·W (W = [k, n]) for a weight
   * held as 16-bit patterns (format 'bf16' or 'fp16', two per 4-byte element from `wOffset`, the
   * first in the low half), decoded inside the kernel a column block at a time. Offsets count
   * 4-byte elements of `heap`. Bounds-checked.
   *
   * @example
   * kernels.MmftMatMulPacked16(heap, { x, weight, y }, { m: 2080, rows: 3072, cols: 768, format: 'bf16', transposeW: true });
   */
  MmftMatMulPacked16(
    heap: Float32Array,
    at: { readonly x: number; readonly weight: number; readonly y: number },
    operands: PackedMatMulOperands,
  ): void;
  /**
   * y [m, n] = x [m, k]·Wᵀ (`transposeW`: W [rows, cols] = [n, k]) or x·W (W = [k, n]) for a weight
   * held in 4 bits as bitsandbytes stores it: ⌈rows·cols/2⌉ bytes from `packed` (element 2j in the
   * high nibble), one float absmax per `blockSize` elements, the 16-float code;
   * W[i] = code[nibble(i)]·absmax[⌊i/blockSize⌋]. Decoded inside the kernel a column block at a time.
   * Offsets count 4-byte elements of `heap`. Bounds-checked.
   *
   * @example
   * kernels.MmftMatMul4bit(heap, { x, packed, absmax, code, y }, { m: 2080, rows: 3072, cols: 768, blockSize: 64, transposeW: true });
   */
  MmftMatMul4bit(
    heap: Float32Array,
    at: { readonly x: number; readonly packed: number; readonly absmax: number; readonly code: number; readonly y: number },
    operands: MatMul4bitOperands,
  ): void;
}
