// Cross-entropy over the last axis and its gradient on plain typed arrays (the cpu kernels'
// math; the wasm kernels run the same in C++, native-kernels/src/cc/cross_entropy.cc), and the
// input checks both backends share. Rows are float64 in JavaScript; outputs are rounded to float32.
import { util, type TensorInfo } from '@tensorflow/tfjs-core';

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');

/**
 * logits [..., V] float32 and labels [...] int32 over the same leading positions (and, for the
 * gradient, float32 `perRow` tensors of the labels' shape); returns rows and V.
 */
export function crossEntropyOperands(
  kernelName: string,
  logits: TensorInfo,
  labels: TensorInfo,
  perRow: readonly TensorInfo[] = [],
): { rows: number; cols: number } {
  const lead = logits.shape.slice(0, -1);
  util.assert(
    logits.dtype === 'float32' &&
      logits.shape.length >= 1 &&
      labels.dtype === 'int32' &&
      util.arraysEqual(labels.shape, lead) &&
      perRow.every((t) => t.dtype === 'float32' && util.arraysEqual(t.shape, lead)),
    () =>
      `${kernelName} (mmft fused kernel) needs float32 logits [..., V], int32 labels [...] and float32 [...] row values; ` +
      `got ${shapes([logits, labels, ...perRow])}`,
  );
  return { rows: util.sizeFromShape(lead), cols: logits.shape[logits.shape.length - 1]! };
}

/** lse = log Σ exp(x) per row; loss = lse − x[label], 0 for `ignoreIndex`, NaN for a label outside [0, cols). */
export function crossEntropyForward(
  x: Float32Array,
  labels: Int32Array,
  loss: Float32Array,
  lse: Float32Array,
  cols: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < labels.length; r++) {
    const base = r * cols;
    let peak = -Infinity;
    for (let c = 0; c < cols; c++) peak = Math.max(peak, x[base + c]!);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(x[base + c]! - peak);
    const logSum = Math.log(sum);
    lse[r] = peak + logSum;
    const label = labels[r]!;
    // (max − x[label]) + log Σ, as the native kernel: no cancellation of two large numbers.
    loss[r] = label === ignoreIndex ? 0 : label >= 0 && label < cols ? peak - x[base + label]! + logSum : NaN;
  }
}

/**
 * dx = exp(x − lse)·(dy + dlse) − onehot(label)·dy per row, dy not reaching ignored rows (they stay
 * 0 when dlse is); NaN on rows with an invalid label. `dx` arrives zero-filled.
 */
export function crossEntropyBackward(
  dy: Float32Array,
  dlse: Float32Array,
  x: Float32Array,
  labels: Int32Array,
  lse: Float32Array,
  dx: Float32Array,
  cols: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < labels.length; r++) {
    const base = r * cols;
    const label = labels[r]!;
    const ignored = label === ignoreIndex;
    if (!ignored && !(label >= 0 && label < cols)) {
      dx.fill(NaN, base, base + cols);
      continue;
    }
    const g = ignored ? 0 : dy[r]!;
    const [scale, l] = [g + dlse[r]!, lse[r]!];
    if (scale === 0 && g === 0) continue;
    for (let c = 0; c < cols; c++) dx[base + c] = Math.exp(x[base + c]! - l) * scale;
    if (!ignored) dx[base + label] = dx[base + label]! - g;
  }
}
