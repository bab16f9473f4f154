// Core's nn test suite as a kit (docs/conventions.md §11): core runs it on tfjs's cpu backend, and a
// backend plugin re-runs it with its kernel overrides installed, as tfjs backends re-run
// tfjs-core's tests (tfjs-core/src/jasmine_util.ts describeWithFlags). The assertions live here once.
import { beforeAll, describe } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { activationsSuite } from './activations';
import { attentionSuite } from './attention';
import { causalAttentionSuite } from './causal-attention';
import { checkpointSuite } from './checkpoint';
import { crossEntropySuite } from './cross-entropy';
import { layersSuite } from './layers';
import { masksSuite } from './masks';
import { moduleSuite } from './module';
import { repeatBatchSuite } from './repeat-batch';
import { rmsNormSuite } from './rms-norm';
import { rotarySuite } from './rotary';
import { trainingMemorySuite } from './training-memory';

/** Every part of the suite, by the core/src/nn file it tests. */
export const NN_SUITES = {
  activations: activationsSuite,
  attention: attentionSuite,
  'causal-attention': causalAttentionSuite,
  checkpoint: checkpointSuite,
  'cross-entropy': crossEntropySuite,
  layers: layersSuite,
  masks: masksSuite,
  module: moduleSuite,
  'repeat-batch': repeatBatchSuite,
  'rms-norm': rmsNormSuite,
  rotary: rotarySuite,
  'training-memory': trainingMemorySuite,
} as const;
export type NnSuiteName = keyof typeof NN_SUITES;

export interface NnSuiteOptions {
  /** Select the backend (and install its kernels) before the tests run. */
  setup(): void | Promise<unknown>;
  /** Parts to run; all when absent. */
  readonly only?: readonly NnSuiteName[];
}

/**
 * Register core's nn tests to run on `engine` (a label for test names).
 *
 * @example
 * describeNnSuite('wasm with mmft kernels', { setup: () => selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] })) });
 */
export function describeNnSuite(engine: string, options: NnSuiteOptions): void {
  describe(`core nn on ${engine}`, () => {
    beforeAll(async () => {
      tf.env().set('IS_TEST', true); // tfjs's own test mode: checks every kernel for leaks, no console banner
      await options.setup();
    });
    for (const name of options.only ?? (Object.keys(NN_SUITES) as NnSuiteName[])) NN_SUITES[name]();
  });
}
