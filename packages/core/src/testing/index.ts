// Test kits for plugin authors (docs/conventions.md §11): plugins re-run these against their providers.
// This subpath imports @jest/globals: use it from tests only.
export * from './describe-architecture';
export * from './describe-dataset';
export * from './describe-metric';
export * from './describe-gradient-checkpointing';
export * from './describe-objective';
export * from './fake-plugins';
export * from './describe-peft-method';
export * from './describe-handoff-target';
export { describeNnSuite, NN_SUITES, type NnSuiteName, type NnSuiteOptions } from './nn-suite';
export * from './peft-toy-model';
export * from './tiny-causal-lm';
export * from './tiny-attention-lm';
export * from './tiny-vision-encoder';
// Kept here for tests; the builders live in @mmft/core/hf so scripts can build tokenizer folders too.
export * from '../hf/tiny-tokenizers';
