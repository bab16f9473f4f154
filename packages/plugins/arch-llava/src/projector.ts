// LlavaMultiModalProjector (src/transformers/models/llava/modeling_llava.py): linear_1 (vision width ×
// feature layers → text width), the activation, linear_2 (text → text). Original LLaVA configs name
// the projector by its builder (llava/model/multimodal_projector/builder.py: `linear` is one Linear,
// `mlpNx_gelu` is N Linears with GELU between); here those become linear_1 … linear_N, the names
// transformers' conversion script gives mm_projector.0 / .2 (convert_llava_weights_to_hf.py).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { deriveSeed, getActivation, Linear, Module, normal, zeros } from '@mmft/core/nn';

/** How many Linears and which activation between them. */
export interface ProjectorShape {
  readonly layers: number;
  readonly act: string;
}

/**
 * The projector's depth and activation: mm_projector_type when given (original LLaVA), else HF's two
 * Linears with projector_hidden_act.
 *
 * @example
 * projectorShape('mlp3x_gelu', 'gelu'); // { layers: 3, act: 'gelu' }
 */
export function projectorShape(mmProjectorType: string | undefined, hiddenAct: string): ProjectorShape {
  if (mmProjectorType === undefined) return { layers: 2, act: hiddenAct };
  if (mmProjectorType === 'linear') return { layers: 1, act: hiddenAct };
  const match = /^mlp(\d+)x_gelu$/.exec(mmProjectorType);
  if (!match || Number(match[1]) < 1) {
    throw new MmftError('E_CONFIG', `mm_projector_type "${mmProjectorType}" is not a LLaVA projector`, {
      hint: 'use linear or mlpNx_gelu (mlp2x_gelu is llava-1.5), or leave it out for the HF projector',
    });
  }
  return { layers: Number(match[1]), act: 'gelu' };
}

/**
 * @example
 * const projector = new LlavaProjector(1024, 4096, { layers: 2, act: 'gelu' }, true, 0.02, 1);
 * projector.forward(features); // [N, P, 4096]
 */
export class LlavaProjector extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    inFeatures: number,
    outFeatures: number,
    readonly shape: ProjectorShape,
    bias: boolean,
    initializerRange = 0.02,
    seed?: number,
  ) {
    super();
    getActivation(shape.act); // an unknown name fails here, not in the first forward
    // LlavaPreTrainedModel._init_weights: normal(0, text initializer_range) weights, zero biases.
    for (let i = 1; i <= shape.layers; i++) {
      const width = i === 1 ? inFeatures : outFeatures;
      this.registerModule(
        `linear_${i}`,
        new Linear(width, outFeatures, {
          bias,
          seed: deriveSeed(seed, `linear_${i}`),
          weightInit: normal(initializerRange),
          biasInit: zeros,
        }),
      );
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const act = getActivation(this.shape.act);
      let h = this.child<Linear>('linear_1').forward(x);
      for (let i = 2; i <= this.shape.layers; i++) h = this.child<Linear>(`linear_${i}`).forward(act(h));
      return h;
    });
  }
}
