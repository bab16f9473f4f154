// Callers run a fused kernel only where the active tfjs backend registers it (a backend plugin
// does, e.g. @mmft/backend-tfjs for wasm with its native addon); everywhere else they run their
// composite tfjs ops. One check and one call, shared by every caller.
import * as tf from '@tensorflow/tfjs-core';
import type { FusedKernelName, FusedKernelTable } from './kernel_names';

/**
 * Whether the active backend registers `kernelName`.
 *
 * @example
 * if (isRegistered(Attention)) context = runFused(Attention, { q, k, v, mask }, attrs)!;
 */
export const isRegistered = (kernelName: string): boolean => tf.getKernel(kernelName, tf.getBackend()) !== undefined;

/** What a fused kernel returns: one tensor, or a list for kernels with several outputs. */
export type FusedOutput<K extends FusedKernelName> = FusedKernelTable[K]['outputs'] extends 1 ? tf.Tensor : tf.Tensor[];

/** The attrs argument: required where the kernel has attributes, absent where it has none. */
type AttrsArg<K extends FusedKernelName> = keyof FusedKernelTable[K]['attrs'] extends never ? [] : [attrs: FusedKernelTable[K]['attrs']];

/**
 * Run the fused kernel `name` through tfjs's engine (so it is taped for gradients) when the active
 * backend registers it; undefined otherwise, and the caller runs its composite ops.
 *
 * @example
 * const y = runFused(LayerNorm, { x, gamma, beta }, { eps }) ?? composite(x, gamma, beta, eps);
 */
export function runFused<K extends FusedKernelName>(
  name: K,
  inputs: FusedKernelTable[K]['inputs'],
  ...attrs: AttrsArg<K>
): FusedOutput<K> | undefined {
  if (!isRegistered(name)) return undefined;
  const [attrMap] = attrs as [tf.NamedAttrMap?];
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrMap) as FusedOutput<K>;
}
