// Test models for the PEFT method tests: the core toy transformer (not CLIP), the tiny HF-layout
// CLIP that @mmft/arch-clip provides for PEFT tests, and a GPT-2-shaped toy whose projections are
// core's Conv1D (weight [in, out]) with GPT-2's names, built here because plugins import no other
// plugin's model code (the real GPT-2 is tested in the CLI's merge test).
import * as tf from '@tensorflow/tfjs-core';
import { clipPeftSubject } from '@mmft/arch-clip';
import { Conv1D, deriveSeed, Embedding, getActivation, Linear, Module, ModuleList } from '@mmft/core/nn';
import { peftToySubject, type PeftSubject } from '@mmft/core/testing';

/** The core toy transformer on two padded sequences. */
export const toySubject = (seed = 3): PeftSubject => peftToySubject(seed);

/** Tiny CLIP: logits_per_image of two images against two texts. */
export const clipSubject = clipPeftSubject;

const std = (s: number) => (shape: readonly number[], seed?: number) => tf.randomNormal([...shape], 0, s, 'float32', seed);

/** GPT2Attention's projections only: c_attn → q, k, v (causal single-head attention) → c_proj. */
class ToyConvAttention extends Module<[tf.Tensor], tf.Tensor> {
  constructor(
    private readonly d: number,
    seed?: number,
  ) {
    super();
    this.registerModule('c_attn', new Conv1D(d, 3 * d, { weightInit: std(0.3), seed: deriveSeed(seed, 'c_attn') }));
    this.registerModule('c_proj', new Conv1D(d, d, { weightInit: std(0.3), seed: deriveSeed(seed, 'c_proj') }));
  }
  forward(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [q, k, v] = tf.split(this.child<Conv1D>('c_attn').forward(h), 3, 2) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const t = h.shape[1]!;
      const future = tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0));
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.d)), tf.mul(future, -1e9));
      return this.child<Conv1D>('c_proj').forward(tf.matMul(tf.softmax(scores), v));
    });
  }
}

/** GPT2MLP: c_fc → gelu_new → c_proj. */
class ToyConvMlp extends Module<[tf.Tensor], tf.Tensor> {
  constructor(d: number, seed?: number) {
    super();
    this.registerModule('c_fc', new Conv1D(d, 2 * d, { weightInit: std(0.3), seed: deriveSeed(seed, 'c_fc') }));
    this.registerModule('c_proj', new Conv1D(2 * d, d, { weightInit: std(0.3), seed: deriveSeed(seed, 'c_proj') }));
  }
  forward(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<Conv1D>('c_proj').forward(getActivation('gelu_new')(this.child<Conv1D>('c_fc').forward(h))));
  }
}

class ToyConvBlock extends Module<[tf.Tensor], tf.Tensor> {
  constructor(d: number, seed?: number) {
    super();
    this.registerModule('attn', new ToyConvAttention(d, deriveSeed(seed, 'attn')));
    this.registerModule('mlp', new ToyConvMlp(d, deriveSeed(seed, 'mlp')));
  }
  forward(h: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const a = tf.add(h, this.child<ToyConvAttention>('attn').forward(h));
      return tf.add(a, this.child<ToyConvMlp>('mlp').forward(a));
    });
  }
}

/** GPT2Model without norms or positions: wte, then the blocks `h.N`. */
class ToyConvTransformer extends Module<[tf.Tensor], tf.Tensor> {
  constructor(vocab: number, d: number, layers: number, seed?: number) {
    super();
    this.registerModule('wte', new Embedding(vocab, d, { seed: deriveSeed(seed, 'wte') }));
    this.registerModule('h', new ModuleList(Array.from({ length: layers }, (_, i) => new ToyConvBlock(d, deriveSeed(seed, `h${i}`)))));
  }
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.child<Embedding>('wte').forward(ids);
      for (const block of this.child<ModuleList<ToyConvBlock>>('h')) h = block.forward(h);
      return h;
    });
  }
}

/** `transformer.{wte, h.N.attn.{c_attn, c_proj}, h.N.mlp.{c_fc, c_proj}}` and a Linear `lm_head`: ids [B, T] → logits [B, T, V]. */
export class ToyConv1DLm extends Module<[tf.Tensor], tf.Tensor> {
  constructor(options: { vocab?: number; d?: number; layers?: number; seed?: number } = {}) {
    super();
    const { vocab = 12, d = 6, layers = 2, seed } = options;
    this.registerModule('transformer', new ToyConvTransformer(vocab, d, layers, deriveSeed(seed, 'transformer')));
    this.registerModule('lm_head', new Linear(d, vocab, { bias: false, seed: deriveSeed(seed, 'lm_head') }));
  }
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.child<Linear>('lm_head').forward(this.child<ToyConvTransformer>('transformer').forward(ids)));
  }
}

/** The GPT-2-shaped Conv1D toy on two sequences: logits [2, 4, 12]. */
export function conv1dSubject(seed = 5): PeftSubject {
  const root = new ToyConv1DLm({ seed });
  const ids = tf.tensor2d(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
    [2, 4],
    'int32',
  );
  return { root, forward: () => root.forward(ids), dispose: () => (root.dispose(), ids.dispose()) };
}
