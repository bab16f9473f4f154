// A Linear layer and its gradients (mmft fused kernels) for the wasm backend, on the native GEMM
// only: y = x·Wᵀ (+ b) for inputs of any rank in one kernel, where the composite path runs two
// Reshapes, BatchMatMul and Add forward and as many again backward, each an engine call with tape
// bookkeeping (~50 Linear layers in a small-CLIP step). The bias is added in place after the
// product (addRepeated). Without the addon they are not installed and @mmft/core's Linear runs
// the composite ops.
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Linear, LinearGradInput, LinearGradWeight, LinearNoBias } from '../kernel_names';
import { nativeFused, runOnHeapNative } from './fused_utils';

const shapes = (infos: readonly TensorInfo[]): string => infos.map((i) => `[${i.shape.join(', ')}] ${i.dtype}`).join(', ');
const last = (info: TensorInfo): number => info.shape[info.shape.length - 1] ?? 0;
/** Positions: the product of every axis but the last. */
const rowsOf = (info: TensorInfo): number => util.sizeFromShape(info.shape.slice(0, -1));

function check(kernelName: string, ok: boolean, infos: readonly TensorInfo[], expected: string): void {
  util.assert(ok, () => `${kernelName} (mmft fused kernel) needs float32 ${expected}; got ${shapes(infos)}`);
}

const float32 = (infos: readonly TensorInfo[]) => infos.every((i) => i.dtype === 'float32' && i.shape.length >= 1);

function linear(args: { inputs: { x: TensorInfo; weight: TensorInfo; bias?: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { x, weight, bias }, backend } = args;
  const name = bias ? Linear : LinearNoBias;
  const [out, inFeatures] = weight.shape as [number, number];
  const infos = bias ? [x, weight, bias] : [x, weight];
  check(name, float32(infos) && weight.shape.length === 2 && last(x) === inFeatures && (!bias || (bias.shape.length === 1 && bias.shape[0] === out)),
    infos, 'x [..., in], weight [out, in] and bias [out]');
  const outShape = [...x.shape.slice(0, -1), out];
  const rows = rowsOf(x);
  if (rows * out === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused('addRepeated')!;
  return runOnHeapNative(backend, infos, [outShape], (heap, [xo, wo, bo], [yo]) => {
    // y = x·Wᵀ: W [out, in] read transposed through its strides.
    native.gemm(heap, 1, rows, out, inFeatures, { offset: xo ?? 0, batch: 0, row: inFeatures, col: 1 }, { offset: wo ?? 0, batch: 0, row: 1, col: inFeatures }, yo!);
    if (bias) native.addRepeated(heap, yo!, bo!, yo!, rows * out, out);
  })[0]!;
}

function linearGradInput(args: { inputs: { dy: TensorInfo; weight: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { dy, weight }, backend } = args;
  const [out, inFeatures] = weight.shape as [number, number];
  check(LinearGradInput, float32([dy, weight]) && weight.shape.length === 2 && last(dy) === out, [dy, weight], 'dy [..., out] and weight [out, in]');
  const outShape = [...dy.shape.slice(0, -1), inFeatures];
  const rows = rowsOf(dy);
  if (rows * inFeatures === 0) return backend.makeOutput(outShape, 'float32');
  const native = nativeFused('addRepeated')!;
  // dx = dy·W (a sum over out: zeros when out is 0, which the GEMM writes for k = 0).
  return runOnHeapNative(backend, [dy, weight], [outShape], (heap, [go, wo], [dxo]) =>
    native.gemm(heap, 1, rows, inFeatures, out, { offset: go ?? 0, batch: 0, row: out, col: 1 }, { offset: wo ?? 0, batch: 0, row: inFeatures, col: 1 }, dxo!),
  )[0]!;
}

function linearGradWeight(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { dy, x }, backend } = args;
  const [out, inFeatures, rows] = [last(dy), last(x), rowsOf(x)];
  check(LinearGradWeight, float32([dy, x]) && rowsOf(dy) === rows, [dy, x], 'dy [..., out] and x [..., in] over the same positions');
  if (out * inFeatures === 0) return backend.makeOutput([out, inFeatures], 'float32');
  const native = nativeFused('addRepeated')!;
  // dW = dyᵀ·x: dy [rows, out] read transposed; a sum over positions (zeros when there are none).
  return runOnHeapNative(backend, [dy, x], [[out, inFeatures]], (heap, [go, xo], [dwo]) =>
    native.gemm(heap, 1, out, inFeatures, rows, { offset: go ?? 0, batch: 0, row: 1, col: out }, { offset: xo ?? 0, batch: 0, row: inFeatures, col: 1 }, dwo!),
  )[0]!;
}

export const wasmLinear: KernelConfig = { kernelName: Linear, backendName: 'wasm', kernelFunc: linear as unknown as KernelFunc };
export const wasmLinearNoBias: KernelConfig = { kernelName: LinearNoBias, backendName: 'wasm', kernelFunc: linear as unknown as KernelFunc };
export const wasmLinearGradInput: KernelConfig = { kernelName: LinearGradInput, backendName: 'wasm', kernelFunc: linearGradInput as unknown as KernelFunc };
export const wasmLinearGradWeight: KernelConfig = { kernelName: LinearGradWeight, backendName: 'wasm', kernelFunc: linearGradWeight as unknown as KernelFunc };
