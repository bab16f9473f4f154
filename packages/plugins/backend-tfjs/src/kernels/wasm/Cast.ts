// Same-dtype Cast for the wasm backend without a copy: the gradient of the engine's saved-tensor
// clone is a float32 → float32 Cast (Identity.ts says why the data can be shared).
import type { CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alias } from './Identity';

type CastArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: CastAttrs };

/**
 * Wrap the stock wasm Cast: a cast to the tensor's own numeric dtype shares the data; every real
 * conversion goes to the stock kernel.
 *
 * @example
 * registerKernel(makeWasmCast(getKernel('Cast', 'wasm')));
 */
export function makeWasmCast(stock: KernelConfig): KernelConfig {
  const stockKernel = stock.kernelFunc as unknown as (args: CastArgs) => TensorInfo;
  const cast = (args: CastArgs): TensorInfo => {
    const { x } = args.inputs;
    return args.attrs.dtype === x.dtype && x.dtype !== 'string' ? alias(x, args.backend) : stockKernel(args);
  };
  return { ...stock, kernelFunc: cast as unknown as KernelFunc };
}
