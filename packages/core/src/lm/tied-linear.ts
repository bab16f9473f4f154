// An output projection whose weight IS another module's variable, as transformers ties lm_head to
// the input embeddings (modeling_utils.py PreTrainedModel.tie_weights / _tie_or_clone_weights:
// `output_embeddings.weight = input_embeddings.weight`). The module tree then lists one variable
// under both names: `namedParameters()` (and so the optimizer) sees it once, `stateDict()` under
// each name, and a gradient step on the head moves the embeddings too.
import type * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import type { Initializer } from '../nn/init';
import { Linear } from '../nn/linear';

// Linear's constructor creates its weight before a subclass can set fields; the variable to adopt
// is handed over through this slot for the duration of the super() call.
let adopting: tf.Variable | undefined;

/**
 * A bias-free `Linear` (so PEFT, `getModule(path, Linear)` and the fused Linear kernel treat it as
 * one) whose weight [out, in] is `weight` itself, not a copy.
 *
 * @example
 * const embed = root.registerModule('wte', new Embedding(vocab, dim));
 * root.registerModule('lm_head', new TiedLinear(embed.weight)); // logits = h · wteᵀ
 */
export class TiedLinear extends Linear {
  constructor(weight: tf.Variable) {
    if (weight.rank !== 2) {
      throw new MmftError('E_SHAPE', `TiedLinear needs a 2-D weight [out, in], got [${weight.shape.join(', ')}] (${weight.name})`);
    }
    adopting = weight;
    try {
      super(weight.shape[1]!, weight.shape[0]!, { bias: false });
    } finally {
      adopting = undefined;
    }
  }

  override createParameter(
    name: string,
    shape: readonly number[],
    init: Initializer,
    options: { seed?: number; trainable?: boolean } = {},
  ): tf.Variable {
    if (name === 'weight' && adopting) return this.registerParameter(name, adopting);
    return super.createParameter(name, shape, init, options);
  }
}
