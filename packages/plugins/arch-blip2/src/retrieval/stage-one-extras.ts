// The stage-1 extras a Hugging Face retrieval checkpoint lacks (`temp`, LAVIS' ITC temperature in
// lavis/models/blip2_models/blip2_qformer.py, and the image-grounded text decoder's
// `qformer_lm_head.*`), initialised on load the way transformers' _init_weights starts a fresh head
// (src/transformers/models/blip_2/modeling_blip_2.py Blip2PreTrainedModel._init_weights).
import * as tf from '@tensorflow/tfjs-core';
import type { SafetensorsTensor } from '@mmft/core/io';
import { deriveSeed } from '@mmft/core/nn';
import type { Blip2Config } from '../config';
import { INITIAL_TEMPERATURE, isStageOneExtra, type Blip2RetrievalRoot } from './retrieval-root';

/**
 * Stage-1 extras initialised as transformers' _init_weights would a fresh head (Linear weights
 * N(0, initializer_range), biases 0, LayerNorm 1/0) and `temp` = 0.07 (LAVIS).
 */
function initStageOneExtras(root: Blip2RetrievalRoot, config: Blip2Config, names: readonly string[], seed = 0): void {
  const wanted = new Set(names);
  for (const [name, variable] of root.namedParameters()) {
    if (!wanted.has(name)) continue;
    tf.tidy(() => {
      if (name === 'temp') variable.assign(tf.scalar(INITIAL_TEMPERATURE));
      else if (name.endsWith('LayerNorm.weight')) variable.assign(tf.onesLike(variable));
      else if (name.endsWith('.weight'))
        variable.assign(tf.randomNormal(variable.shape, 0, config.initializer_range, 'float32', deriveSeed(seed, name)));
      else variable.assign(tf.zerosLike(variable));
    });
  }
}

/**
 * Initialises the stage-1 extras `tensors` lacks and adds them to `tensors` (so that loading finds
 * every parameter); returns their names, in the root's parameter order.
 *
 * @example
 * const newlyInitialized = fillStageOneExtras(root, config, tensors); // e.g. temp and qformer_lm_head.* for a Hugging Face folder
 */
export function fillStageOneExtras(root: Blip2RetrievalRoot, config: Blip2Config, tensors: Map<string, SafetensorsTensor>): string[] {
  const absentExtras = root
    .namedParameters()
    .map(([name]) => name)
    .filter((name) => isStageOneExtra(name) && !tensors.has(name));
  initStageOneExtras(root, config, absentExtras);
  for (const name of absentExtras) {
    const variable = root.stateDict().get(name)!;
    tensors.set(name, { dtype: 'F32', shape: [...variable.shape], data: variable.dataSync() as Float32Array });
  }
  return absentExtras;
}
