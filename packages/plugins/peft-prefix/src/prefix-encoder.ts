// The trainable prefix table of prefix tuning: [P, L·2·D] directly, or an embedding [P, D]
// through a tanh MLP (Li & Liang 2021). Names and layout follow PrefixEncoder in
// peft/tuners/prefix_tuning/model.py (`embedding`, `transform.0`, `transform.2`), and the table's
// columns are [layer][key|value][head][head_dim] as PeftModel.get_prompt splits them.
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, Linear, Module, ModuleList, deriveSeed } from '@mmft/core/nn';

class Tanh extends Module<[tf.Tensor], tf.Tensor> {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }
}

/** Shape of one prefix table. */
export interface PrefixShape {
  numVirtualTokens: number;
  numLayers: number;
  tokenDim: number;
  numHeads: number;
}

/**
 * Produces the table [P, L·2·D].
 *
 * @example
 * const enc = new PrefixEncoder({ numVirtualTokens: 10, numLayers: 12, tokenDim: 768, numHeads: 12 }, { projectionHidden: 512 });
 */
export class PrefixEncoder extends Module<[], tf.Tensor> {
  constructor(
    readonly shape: PrefixShape,
    options: { projectionHidden?: number; seed?: number; table?: tf.Tensor; zero?: boolean } = {},
  ) {
    super();
    const { numVirtualTokens: p, numLayers: l, tokenDim: d } = shape;
    const width = l * 2 * d;
    if (options.projectionHidden !== undefined && !options.table) {
      this.registerModule('embedding', new Embedding(p, d, { seed: deriveSeed(options.seed, 'embedding') }));
      const h = options.projectionHidden;
      this.registerModule(
        'transform',
        new ModuleList([
          new Linear(d, h, { seed: deriveSeed(options.seed, 't0') }),
          new Tanh(),
          new Linear(h, width, { seed: deriveSeed(options.seed, 't2') }),
        ]),
      );
    } else {
      const table = options.table;
      this.registerModule(
        'embedding',
        new Embedding(p, width, { seed: deriveSeed(options.seed, 'embedding'), init: table ? () => tf.clone(table) : undefined }),
      );
    }
    // PrefixTuningConfig init_weights "zero" (peft/tuners/prefix_tuning/model.py): the output layer
    // of the MLP, or the table itself, starts at zero.
    if (options.zero && !options.table) {
      const last = this.projected ? this.getModule<Linear>('transform.2') : undefined;
      const zeroed = last ? last.namedParameters().map(([, v]) => v) : [this.child<Embedding>('embedding').weight];
      for (const v of zeroed) tf.tidy(() => v.assign(tf.zerosLike(v)));
    }
  }

  /** True while the MLP reparameterisation is in use. */
  get projected(): boolean {
    return this.namedChildren().some(([n]) => n === 'transform');
  }

  forward(): tf.Tensor {
    const table = this.child<Embedding>('embedding').weight;
    if (!this.projected) return table;
    return tf.tidy(() => {
      let h: tf.Tensor = table;
      for (const layer of this.child<ModuleList<Module<[tf.Tensor], tf.Tensor>>>('transform')) h = layer.forward(h);
      return h;
    });
  }

  /** Layer `index`'s key and value prefixes, each [1, H, P, D/H]. */
  layerPrefix(table: tf.Tensor, index: number): { key: tf.Tensor; value: tf.Tensor } {
    const { numVirtualTokens: p, tokenDim: d, numHeads: h } = this.shape;
    const part = (which: 0 | 1) =>
      tf.tidy(() =>
        tf.expandDims(tf.transpose(tf.reshape(tf.slice(table, [0, (2 * index + which) * d], [p, d]), [p, h, d / h]), [1, 0, 2]), 0),
      );
    return { key: part(0), value: part(1) };
  }
}
