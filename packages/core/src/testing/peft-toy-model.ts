// A tiny causal text transformer for PEFT tests that is not CLIP: HF-style names
// (`layers.N.self_attn.q_proj`, `layers.N.mlp.fc1`, `head`), padding + causal masks, last-token
// pooling, and the PromptInjectionPoint hook done the way contracts/peft.ts prescribes, so method
// plugins prove they work on any architecture and prompt tuning has a reference host.
import * as tf from '@tensorflow/tfjs-core';
import type { PromptInjectionPoint } from '../contracts/peft';
import { getActivation } from '../nn/activations';
import { MultiHeadAttention } from '../nn/attention';
import { Embedding } from '../nn/embedding';
import { deriveSeed } from '../nn/init';
import { LayerNorm } from '../nn/layer-norm';
import { Linear } from '../nn/linear';
import { causalMask, combineMasks, paddingMask } from '../nn/masks';
import { Module } from '../nn/module';
import { ModuleList } from '../nn/module-list';

/** Sizes of the toy model. */
export interface PeftToyOptions {
  vocab?: number;
  hidden?: number;
  heads?: number;
  layers?: number;
  maxPositions?: number;
  outputs?: number;
  seed?: number;
}

class ToyMlp extends Module<[tf.Tensor], tf.Tensor> {
  constructor(hidden: number, seed?: number) {
    super();
    this.registerModule('fc1', new Linear(hidden, 2 * hidden, { seed: deriveSeed(seed, 'fc1') }));
    this.registerModule('fc2', new Linear(2 * hidden, hidden, { seed: deriveSeed(seed, 'fc2') }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const fc = (n: string) => this.child<Module<[tf.Tensor], tf.Tensor>>(n);
    return tf.tidy(() => fc('fc2').forward(getActivation('gelu')(fc('fc1').forward(x))));
  }
}

class ToyBlock extends Module<[tf.Tensor, tf.Tensor | undefined], tf.Tensor> {
  constructor(hidden: number, heads: number, seed?: number) {
    super();
    this.registerModule('self_attn', new MultiHeadAttention({ embedDim: hidden, numHeads: heads, seed: deriveSeed(seed, 'attn') }));
    this.registerModule('norm', new LayerNorm(hidden));
    this.registerModule('mlp', new ToyMlp(hidden, deriveSeed(seed, 'mlp')));
  }
  forward(h: tf.Tensor, mask: tf.Tensor | undefined): tf.Tensor {
    return tf.tidy(() => {
      const attended = tf.add(h, this.child<MultiHeadAttention>('self_attn').forward(h, { attentionMask: mask }));
      return tf.add(attended, this.child<ToyMlp>('mlp').forward(this.child<LayerNorm>('norm').forward(attended)));
    });
  }
}

/**
 * ids [B, T] int32 (+ 0/1 mask) → head(last real token's state) [B, outputs].
 *
 * @example
 * const model = new PeftToyModel({ seed: 1 });
 * const y = model.forward(tf.tensor2d([[3, 4, 5]], [1, 3], 'int32'));
 */
export class PeftToyModel extends Module<[tf.Tensor, tf.Tensor?], tf.Tensor> implements PromptInjectionPoint {
  readonly promptTokenDim: number;
  private promptSource?: (batchSize: number) => tf.Tensor;

  constructor(options: PeftToyOptions = {}) {
    super();
    const { vocab = 16, hidden = 8, heads = 2, layers = 2, maxPositions = 16, outputs = 3, seed } = options;
    this.promptTokenDim = hidden;
    this.registerModule('embed_tokens', new Embedding(vocab, hidden, { seed: deriveSeed(seed, 'tok') }));
    this.registerModule('embed_positions', new Embedding(maxPositions, hidden, { seed: deriveSeed(seed, 'pos') }));
    this.registerModule(
      'layers',
      new ModuleList(Array.from({ length: layers }, (_, i) => new ToyBlock(hidden, heads, deriveSeed(seed, `l${i}`)))),
    );
    this.registerModule('head', new Linear(hidden, outputs, { seed: deriveSeed(seed, 'head') }));
  }

  setPromptSource(source: ((batchSize: number) => tf.Tensor) | undefined): void {
    this.promptSource = source;
  }

  forward(ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    const [batch, length] = ids.shape as [number, number];
    const realMask = mask ?? tf.ones([batch, length], 'int32');
    const sums = tf.sum(realMask, 1);
    const lengths = Array.from(sums.dataSync());
    sums.dispose();
    const out = tf.tidy(() => {
      let h = tf.add(
        this.child<Embedding>('embed_tokens').forward(ids),
        this.child<Embedding>('embed_positions').forward(tf.range(0, length, 1, 'int32')),
      );
      let fullMask = realMask;
      let offset = 0;
      if (this.promptSource) {
        const prompt = this.promptSource(batch);
        offset = prompt.shape[1]!;
        h = tf.concat([prompt.shape[0] === batch ? prompt : tf.tile(prompt, [batch, 1, 1]), h], 1);
        fullMask = tf.concat([tf.ones([batch, offset], 'int32'), tf.cast(realMask, 'int32')], 1);
      }
      const attn = combineMasks(causalMask(offset + length), paddingMask(fullMask));
      for (const block of this.child<ModuleList<ToyBlock>>('layers')) h = block.forward(h, attn);
      const flat = tf.reshape(h, [batch * (offset + length), this.promptTokenDim]);
      const pooled = tf.gather(
        flat,
        tf.tensor1d(
          lengths.map((n, b) => b * (offset + length) + offset + n - 1),
          'int32',
        ),
      );
      return this.child<Linear>('head').forward(pooled);
    });
    if (!mask) realMask.dispose();
    return out;
  }
}

/**
 * The toy model on two fixed sequences (one padded), as a PEFT conformance subject.
 *
 * @example
 * describePeftMethod(method, [{ name: 'toy', config: {}, makeSubject: () => peftToySubject(), ... }]);
 */
export function peftToySubject(seed = 3): { root: PeftToyModel; forward(): tf.Tensor; dispose(): void } {
  const root = new PeftToyModel({ seed });
  const ids = tf.tensor2d(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 0],
    ],
    [2, 4],
    'int32',
  );
  const mask = tf.tensor2d(
    [
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ],
    [2, 4],
    'int32',
  );
  return { root, forward: () => root.forward(ids, mask), dispose: () => (root.dispose(), tf.dispose([ids, mask])) };
}
