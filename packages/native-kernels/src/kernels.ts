// The addon's functions, listed once. A symbol is the name of the tfjs kernel it implements
// (@mmft/core/kernels: MmftLayerNorm runs the MmftLayerNorm kernel, as tfjs-backend-wasm's C
// symbol LeakyRelu runs its LeakyRelu kernel); MmftSoftmax serves both softmax kernels (a mask is
// optional). The three primitives several kernels share are named for what they compute (MmftGemm:
// BatchMatMul and the Linear kernels; MmftSumRows: Sum; MmftAddRepeated: Add and Linear's bias).
// The C++ side exports exactly these (src/cc/napi/symbols.h, checked by symbols.test.ts); the
// Addon type below, NativeKernels (index.ts) and backend-tfjs's needsNative lists derive from them.

/** Every function the addon exports besides `info`, in src/cc/napi/symbols.h's order. */
export const NATIVE_SYMBOLS = [
  'MmftGemm',
  'MmftLayerNorm',
  'MmftLayerNormGrad',
  'MmftAdamWUpdate',
  'MmftSumRows',
  'MmftAddRepeated',
  'MmftSumOfSquares',
  'MmftQuickGelu',
  'MmftQuickGeluGrad',
  'MmftSoftmax',
  'MmftSoftmaxGrad',
  'MmftAttention',
  'MmftAttentionGrad',
  'MmftCrossEntropy',
  'MmftCrossEntropyGrad',
  'MmftMatMulPacked16',
  'MmftMatMul4bit',
] as const;

/** The name of one of the addon's kernels. */
export type NativeSymbol = (typeof NATIVE_SYMBOLS)[number];

/** The addon's raw functions (src/cc/napi/<Symbol>.cc): offsets and sizes count floats of `heap`; the last argument is the thread count. */
export interface AddonFunctions {
  MmftGemm(
    heap: Float32Array,
    batches: number,
    m: number,
    n: number,
    k: number,
    aOffset: number,
    aBatch: number,
    aRow: number,
    aCol: number,
    bOffset: number,
    bBatch: number,
    bRow: number,
    bCol: number,
    cOffset: number,
    threads: number,
  ): void;
  MmftLayerNorm(
    heap: Float32Array,
    xOffset: number,
    gammaOffset: number,
    betaOffset: number,
    yOffset: number,
    rows: number,
    cols: number,
    eps: number,
    threads: number,
  ): void;
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
    threads: number,
  ): void;
  MmftAdamWUpdate(
    heap: Float32Array,
    pOffset: number,
    gOffset: number,
    mOffset: number,
    vOffset: number,
    pOutOffset: number,
    mOutOffset: number,
    vOutOffset: number,
    n: number,
    beta1: number,
    beta2: number,
    c1: number,
    c2: number,
    eps: number,
    decay: number,
    stepSize: number,
    bias2Sqrt: number,
    threads: number,
  ): void;
  MmftSumRows(heap: Float32Array, xOffset: number, outOffset: number, rows: number, cols: number, threads: number): void;
  MmftAddRepeated(heap: Float32Array, aOffset: number, bOffset: number, outOffset: number, n: number, m: number, threads: number): void;
  MmftSumOfSquares(heap: Float32Array, offsets: Float64Array, sizes: Float64Array, threads: number): number;
  MmftQuickGelu(heap: Float32Array, xOffset: number, yOffset: number, n: number, threads: number): void;
  MmftQuickGeluGrad(heap: Float32Array, dyOffset: number, xOffset: number, dxOffset: number, n: number, threads: number): void;
  MmftSoftmax(
    heap: Float32Array,
    xOffset: number,
    maskOffset: number,
    yOffset: number,
    batch: number,
    heads: number,
    rows: number,
    cols: number,
    maskBatch: number,
    maskHead: number,
    maskRow: number,
    hasMask: number,
    minValue: number,
    threads: number,
  ): void;
  MmftSoftmaxGrad(
    heap: Float32Array,
    dyOffset: number,
    yOffset: number,
    xOffset: number,
    maskOffset: number,
    dxOffset: number,
    batch: number,
    heads: number,
    rows: number,
    cols: number,
    maskBatch: number,
    maskHead: number,
    maskRow: number,
    hasMask: number,
    minValue: number,
    threads: number,
  ): void;
  MmftAttention(
    heap: Float32Array,
    qOffset: number,
    kOffset: number,
    vOffset: number,
    maskOffset: number,
    contextOffset: number,
    batch: number,
    heads: number,
    queries: number,
    keys: number,
    headDim: number,
    maskBatch: number,
    maskHead: number,
    maskRow: number,
    scale: number,
    minValue: number,
    threads: number,
  ): void;
  MmftAttentionGrad(
    heap: Float32Array,
    dContextOffset: number,
    qOffset: number,
    kOffset: number,
    vOffset: number,
    maskOffset: number,
    dqOffset: number,
    dkOffset: number,
    dvOffset: number,
    batch: number,
    heads: number,
    queries: number,
    keys: number,
    headDim: number,
    maskBatch: number,
    maskHead: number,
    maskRow: number,
    scale: number,
    minValue: number,
    threads: number,
  ): void;
  MmftCrossEntropy(
    heap: Float32Array,
    logitsOffset: number,
    labelsOffset: number,
    lossOffset: number,
    lseOffset: number,
    rows: number,
    cols: number,
    ignoreIndex: number,
    threads: number,
  ): void;
  MmftCrossEntropyGrad(
    heap: Float32Array,
    dyOffset: number,
    dlseOffset: number,
    logitsOffset: number,
    labelsOffset: number,
    lseOffset: number,
    dxOffset: number,
    rows: number,
    cols: number,
    ignoreIndex: number,
    threads: number,
  ): void;
  MmftMatMulPacked16(
    heap: Float32Array,
    m: number,
    rows: number,
    cols: number,
    xOffset: number,
    wOffset: number,
    format: number,
    transposeW: number,
    yOffset: number,
    threads: number,
  ): void;
  MmftMatMul4bit(
    heap: Float32Array,
    m: number,
    rows: number,
    cols: number,
    blockSize: number,
    xOffset: number,
    packedOffset: number,
    absmaxOffset: number,
    codeOffset: number,
    transposeW: number,
    yOffset: number,
    threads: number,
  ): void;
}

/** The loaded addon: its kernels and what it was built for. */
export type Addon = AddonFunctions & { info(): { isa: string; hardwareThreads: number } };

// The signatures and the list name the same functions: one missing from either fails to compile.
const listed: Exclude<keyof AddonFunctions, NativeSymbol> | Exclude<NativeSymbol, keyof AddonFunctions> extends never ? true : never = true;
void listed;
