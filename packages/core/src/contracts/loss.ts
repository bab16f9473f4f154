// Loss contract: a scalar from model outputs and the batch. Losses may own parameters (CLIP's
// learnable temperature lives on the model, but SigLIP's bias may live on the loss).
import type { Scalar, Variable } from '@tensorflow/tfjs-core';
import type { Example } from './dataset';
import type { ModelInputs, ModelOutputs } from './model';
import type { ProviderBase } from './provider';

/** One collated batch: tensors for the model plus the examples they came from. */
export interface Batch {
  readonly inputs: ModelInputs;
  readonly examples: readonly Example[];
}

export interface Loss {
  compute(outputs: ModelOutputs, batch: Batch): Scalar;
  /** Extra trainable parameters the loss owns, if any. */
  readonly parameters?: ReadonlyArray<readonly [string, Variable]>;
}

export interface LossProvider<Config = unknown> extends ProviderBase<Config> {
  readonly kind: 'loss';
  create(config: Config): Loss;
}

declare module './kinds' {
  interface ProviderKindMap {
    loss: LossProvider;
  }
}
