// Core's causal-attention tests (testing/nn-suite/causal-attention.ts) on tfjs's cpu backend; backend plugins re-run
// the same suite with their kernels installed (backend-tfjs: src/nn-suite.*.test.ts).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describeNnSuite } from '../testing/nn-suite';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['causal-attention'] });
