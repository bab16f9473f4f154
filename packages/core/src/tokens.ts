// Typed injection tokens, one per plugin kind, taken from the kinds table
// (contracts/kind-specs.ts). `Symbol.for` keeps token identity when two copies of @mmft/core end
// up installed (a third-party plugin with its own copy still registers into ours).
import { KIND_TOKENS } from './contracts/kind-specs';

export const ARCHITECTURES = KIND_TOKENS.architecture;
export const BACKENDS = KIND_TOKENS.backend;
export const DATASETS = KIND_TOKENS.dataset;
export const LOSSES = KIND_TOKENS.loss;
export const METRICS = KIND_TOKENS.metric;
export const PEFT_METHODS = KIND_TOKENS.peft;
export const TRAINERS = KIND_TOKENS.trainer;
export const EXPORTERS = KIND_TOKENS.exporter;
