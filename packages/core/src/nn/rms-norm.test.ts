// Core's rms-norm tests (testing/nn-suite/rms-norm.ts) on tfjs's cpu backend; backend plugins re-run
// the same suite with their kernels installed (backend-tfjs: src/nn-suite.*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeNnSuite } from '../testing/nn-suite';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['rms-norm'] });
