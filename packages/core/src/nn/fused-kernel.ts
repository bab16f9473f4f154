// Core calls mmft's fused kernels by name only where the active tfjs backend registers them (a
// backend plugin does, e.g. @mmft/backend-tfjs for wasm with its native addon); everywhere else
// the modules run their composite tfjs ops. One check, shared by every caller.

import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether the active backend registers `kernelName`.
 *
 * @example
 * if (isRegistered('MmftLinear')) y = tf.engine().runKernel('MmftLinear', { x, weight, bias });
 */
export const isRegistered = (kernelName: string): boolean => tf.getKernel(kernelName, tf.getBackend()) !== undefined;
