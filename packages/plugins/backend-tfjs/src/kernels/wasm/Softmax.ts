// Softmax over the last axis, plain and with attention's additive mask, forward and backward (mmft
// fused kernels) for the wasm backend, in C++ only (@mmft/native-kernels, rows split over cores).
// The masked one replaces Add, Maximum and Softmax forward and nine kernels backward (the softmax
// gradient's Multiply, Sum, Sub, Multiply and the clamp's GreaterEqual, Cast, Multiply ...).
// Without the addon they are not installed and @mmft/core runs the composite ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { SoftmaxOperands } from '@mmft/native-kernels';
import { MaskedSoftmax, MaskedSoftmaxGrad, Softmax, SoftmaxGrad, type MaskedSoftmaxAttrs } from '../kernel_names';
import { assertSameFloat32 } from '../fused/checks';
import { nativeFused, runOnHeapNative } from './fused_utils';

const shapeOf = (info: TensorInfo): string => `[${info.shape.join(', ')}] ${info.dtype}`;

/** Rows × cols of a plain softmax over the last axis. */
function plainOperands(kernelName: string, logits: TensorInfo): SoftmaxOperands {
  util.assert(logits.dtype === 'float32' && logits.shape.length >= 1, () => `${kernelName} (mmft fused kernel) needs float32 logits; got ${shapeOf(logits)}`);
  const cols = logits.shape[logits.shape.length - 1]!;
  return { batch: 1, heads: 1, rows: cols === 0 ? 0 : util.sizeFromShape(logits.shape) / cols, cols, minValue: 0 };
}

/** [B, H, T, S] logits and the mask's strides (0 where it broadcasts); mask offset filled in later. */
function maskedOperands(kernelName: string, logits: TensorInfo, mask: TensorInfo, minValue: number): SoftmaxOperands {
  const [batch, heads, rows, cols] = logits.shape as [number, number, number, number];
  const [mb, mh, mt, ms] = mask.shape as [number, number, number, number];
  util.assert(
    logits.dtype === 'float32' && mask.dtype === 'float32' && logits.shape.length === 4 && mask.shape.length === 4 && ms === cols &&
      [mb, mh, mt].every((d, i) => d === 1 || d === logits.shape[i]),
    () => `${kernelName} (mmft fused kernel) needs float32 logits [B, H, T, S] and a mask [B|1, H|1, T|1, S]; got ${shapeOf(logits)}, ${shapeOf(mask)}`,
  );
  const stride = (size: number, inner: number) => (size === 1 ? 0 : inner);
  return { batch, heads, rows, cols, mask: { offset: 0, batch: stride(mb, mh * mt * ms), head: stride(mh, mt * ms), row: stride(mt, ms) }, minValue };
}

const withMaskAt = (o: SoftmaxOperands, offset: number): SoftmaxOperands => ({ ...o, mask: { ...o.mask!, offset } });
const empty = (o: SoftmaxOperands): boolean => o.batch * o.heads * o.rows * o.cols === 0;

function softmax(args: { inputs: { logits: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { logits }, backend } = args;
  const o = plainOperands(Softmax, logits);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused('softmax')!;
  return runOnHeapNative(backend, [logits], [logits.shape], (heap, [xo], [yo]) => native.softmax(heap, xo!, yo!, o))[0]!;
}

function softmaxGrad(args: { inputs: { dy: TensorInfo; y: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { dy, y }, backend } = args;
  assertSameFloat32(SoftmaxGrad, [dy, y]);
  const o = plainOperands(SoftmaxGrad, y);
  if (empty(o)) return backend.makeOutput([...y.shape], 'float32');
  const native = nativeFused('softmaxGrad')!;
  return runOnHeapNative(backend, [dy, y], [y.shape], (heap, [go, yo], [dxo]) => native.softmaxGrad(heap, { dy: go!, y: yo!, x: yo!, dx: dxo! }, o))[0]!;
}

function maskedSoftmax(args: { inputs: { logits: TensorInfo; mask: TensorInfo }; backend: BackendWasm; attrs: MaskedSoftmaxAttrs }): TensorInfo {
  const { inputs: { logits, mask }, backend, attrs } = args;
  const o = maskedOperands(MaskedSoftmax, logits, mask, attrs.minValue);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused('softmax')!;
  return runOnHeapNative(backend, [logits, mask], [logits.shape], (heap, [xo, mo], [yo]) => native.softmax(heap, xo!, yo!, withMaskAt(o, mo!)))[0]!;
}

function maskedSoftmaxGrad(args: {
  inputs: { dy: TensorInfo; y: TensorInfo; logits: TensorInfo; mask: TensorInfo };
  backend: BackendWasm;
  attrs: MaskedSoftmaxAttrs;
}): TensorInfo {
  const { inputs: { dy, y, logits, mask }, backend, attrs } = args;
  assertSameFloat32(MaskedSoftmaxGrad, [dy, y, logits]);
  const o = maskedOperands(MaskedSoftmaxGrad, logits, mask, attrs.minValue);
  if (empty(o)) return backend.makeOutput([...logits.shape], 'float32');
  const native = nativeFused('softmaxGrad')!;
  return runOnHeapNative(backend, [dy, y, logits, mask], [logits.shape], (heap, [go, yo, xo, mo], [dxo]) =>
    native.softmaxGrad(heap, { dy: go!, y: yo!, x: xo!, dx: dxo! }, withMaskAt(o, mo!)),
  )[0]!;
}

export const wasmSoftmax: KernelConfig = { kernelName: Softmax, backendName: 'wasm', kernelFunc: softmax as unknown as KernelFunc };
export const wasmSoftmaxGrad: KernelConfig = { kernelName: SoftmaxGrad, backendName: 'wasm', kernelFunc: softmaxGrad as unknown as KernelFunc };
export const wasmMaskedSoftmax: KernelConfig = { kernelName: MaskedSoftmax, backendName: 'wasm', kernelFunc: maskedSoftmax as unknown as KernelFunc };
export const wasmMaskedSoftmaxGrad: KernelConfig = { kernelName: MaskedSoftmaxGrad, backendName: 'wasm', kernelFunc: maskedSoftmaxGrad as unknown as KernelFunc };
