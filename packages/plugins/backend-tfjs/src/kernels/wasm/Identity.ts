// Identity and same-dtype Cast for the wasm backend without a copy. tfjs-core's engine clones
// every tensor it saves for the backward pass through the Identity kernel (engine.ts
// saveTensorsForBackwardMode), and the gradient of that clone is a float32 → float32 Cast. The
// stock wasm kernels (tfjs-backend-wasm/src/kernels/{Identity,Cast}.ts) copy the data each time:
// ~600 activation-sized copies per small-CLIP training step. The cpu backend instead shares the
// data id and counts a reference (tfjs-backend-cpu/src/kernels/Identity.ts), which is safe
// because no kernel writes into its inputs (mmft's own kernels included: they all allocate their
// outputs) and Variable.assign swaps data ids rather than writing. These do the same on wasm.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type IdentityArgs = { inputs: { x: TensorInfo }; backend: BackendWasm };

/** A new tensor info on the same data as `x` (one more reference, released by dispose). */
export function alias(x: TensorInfo, backend: BackendWasm): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Wrap the stock wasm Identity: share the data of numeric tensors; strings keep the stock copy.
 *
 * @example
 * registerKernel(makeWasmIdentity(getKernel('Identity', 'wasm')));
 */
export function makeWasmIdentity(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as (args: IdentityArgs) => TensorInfo;
  const identity = (args: IdentityArgs): TensorInfo =>
    args.inputs.x.dtype === 'string' ? stockKernel(args) : alias(args.inputs.x, args.backend);
  return { ...stock, kernelFunc: identity as unknown as KernelFunc };
}
