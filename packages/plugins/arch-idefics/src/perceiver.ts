// IDEFICS's Perceiver resampler (transformers src/transformers/models/idefics/perceiver.py, itself
// after open_flamingo/src/helpers.py PerceiverResampler): learned latents read the image features
// through attention whose keys and values are the features with the latents appended, then a
// ReLU MLP, both residual, and a final LayerNorm. Parameter names are perceiver.py's.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { LayerNorm, Linear, Module, ModuleList, normal, repeatBatch } from '@mmft/core/nn';

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** Shape of the resampler. */
export interface PerceiverShape {
  /** Width of the image features and of the latents (vision embed_dim). */
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly numLatents: number;
  /** Seed of the latents and the projections. */
  readonly seed?: number;
}

/** [N, L, H·d] → [N, H, L, d]. */
function splitHeads(x: tf.Tensor, heads: number, headDim: number): tf.Tensor {
  const [n, l] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [n, l, heads, headDim]), [0, 2, 1, 3]);
}

/**
 * IdeficsPerceiverAttention: q from the normed latents, k and v from cat(normed context, normed
 * latents) on the sequence axis, softmax(q·kᵀ/√d)·v, output_proj; all projections bias-free.
 */
export class IdeficsPerceiverAttention extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  constructor(
    embedDim: number,
    readonly numHeads: number,
    readonly headDim: number,
    seed?: number,
  ) {
    super();
    const inner = numHeads * headDim;
    const s = (k: number) => (seed === undefined ? undefined : seed + k);
    this.registerModule('context_layer_norm', new LayerNorm(embedDim));
    this.registerModule('latents_layer_norm', new LayerNorm(embedDim));
    this.registerModule('q_proj', new Linear(embedDim, inner, { bias: false, seed: s(1) }));
    this.registerModule('k_proj', new Linear(embedDim, inner, { bias: false, seed: s(2) }));
    this.registerModule('v_proj', new Linear(embedDim, inner, { bias: false, seed: s(3) }));
    this.registerModule('output_proj', new Linear(inner, embedDim, { bias: false, seed: s(4) }));
  }

  /** context [N, S, D], latents [N, L, D] → [N, L, D]. */
  forward(context: tf.Tensor, latents: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const c = this.child<LayerNorm>('context_layer_norm').forward(context);
      const l = this.child<LayerNorm>('latents_layer_norm').forward(latents);
      const kv = tf.concat([c, l], 1);
      const { numHeads: h, headDim: d } = this;
      const q = splitHeads(this.child<Linear>('q_proj').forward(l), h, d);
      const k = splitHeads(this.child<Linear>('k_proj').forward(kv), h, d);
      const v = splitHeads(this.child<Linear>('v_proj').forward(kv), h, d);
      // perceiver.py subtracts the row max before softmax; tf.softmax does the same internally.
      const attn = tf.softmax(tf.matMul(tf.mul(q, 1 / Math.sqrt(d)), k, false, true));
      const out = tf.matMul(attn, v);
      const [n, , length] = out.shape as [number, number, number, number];
      return this.child<Linear>('output_proj').forward(tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [n, length, h * d]));
    });
  }
}

/** perceiver.py's IdeficsMLP: c_proj(relu(fc(ln(x)))), bias-free linears. */
export class IdeficsPerceiverMLP extends Module<[tf.Tensor], tf.Tensor> {
  constructor(embedDim: number, intermediate: number, seed?: number) {
    super();
    this.registerModule('ln', new LayerNorm(embedDim));
    this.registerModule('fc', new Linear(embedDim, intermediate, { bias: false, seed }));
    this.registerModule('c_proj', new Linear(intermediate, embedDim, { bias: false, seed: seed === undefined ? undefined : seed + 1 }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      this.child<Linear>('c_proj').forward(tf.relu(this.child<Linear>('fc').forward(this.child<LayerNorm>('ln').forward(x)))),
    );
  }
}

/**
 * IdeficsPerceiverResampler: image features [N, S, D] → [N, numLatents, D].
 *
 * @example
 * const resampler = new IdeficsPerceiverResampler({ embedDim: 8, depth: 1, numHeads: 2, headDim: 4, numLatents: 3 });
 * resampler.forward(tf.zeros([2, 5, 8])).shape; // [2, 3, 8]
 */
export class IdeficsPerceiverResampler extends Module<[tf.Tensor], tf.Tensor> {
  constructor(readonly shape: PerceiverShape) {
    super();
    const { embedDim, depth, numHeads, headDim, numLatents, seed } = shape;
    // perceiver.py: nn.Parameter(torch.randn(n_latents, embed_dim)).
    this.createParameter('latents', [numLatents, embedDim], normal(1), { seed });
    const blocks = new ModuleList();
    for (let i = 0; i < depth; i++) {
      const block = new ModuleList();
      const s = seed === undefined ? undefined : seed + 10 * (i + 1);
      block.append(new IdeficsPerceiverAttention(embedDim, numHeads, headDim, s));
      // perceiver.py: intermediate_dim = vision_config.embed_dim * 4.
      block.append(new IdeficsPerceiverMLP(embedDim, embedDim * 4, s === undefined ? undefined : s + 5));
      blocks.append(block);
    }
    this.registerModule('blocks', blocks);
    this.registerModule('layer_norm', new LayerNorm(embedDim));
  }

  forward(context: tf.Tensor): tf.Tensor {
    const { embedDim } = this.shape;
    if (context.rank !== 3 || context.shape[2] !== embedDim) {
      throw new MmftError('E_SHAPE', `IdeficsPerceiverResampler needs image features [N, S, ${embedDim}], got ${shapeOf(context)}`);
    }
    return tf.tidy(() => {
      let latents = repeatBatch(tf.expandDims(this.param('latents'), 0), context.shape[0]!);
      for (const block of this.child<ModuleList<ModuleList>>('blocks')) {
        const attn = block.get(0) as IdeficsPerceiverAttention;
        const mlp = block.get(1) as IdeficsPerceiverMLP;
        latents = tf.add(attn.forward(context, latents), latents);
        latents = tf.add(mlp.forward(latents), latents);
      }
      return this.child<LayerNorm>('layer_norm').forward(latents);
    });
  }
}
