// A block followed by bottleneck adapters: y = f(x); y ← y + up(act(down(y))) for each active
// adapter (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP", and
// adapter-transformers' Adapter module). The up-projection starts at zero, so a fresh adapter
// computes exactly what the block does. Names stay the block's own (TransparentWrapper).
import * as tf from '@tensorflow/tfjs-core';
import { AdapterDict, MmftError, TransparentWrapper, type PeftLayer } from '@mmft/core';
import { Conv1D, deriveSeed, getActivation, Linear, normal, zeros, type Activation, type AnyModule } from '@mmft/core/nn';

/** adapter-transformers' non_linearity names; swish is silu. */
const activationOf = (name: string): Activation => (name === 'tanh' ? (x) => tf.tanh(x) : getActivation(name === 'swish' ? 'silu' : name));

/**
 * `self_attn.adapter_down.default.weight`, `self_attn.adapter_up.default.weight` beside the
 * block's own parameters.
 *
 * @example
 * const wrapped = new BottleneckWrapper(root.getModule('layers.0.mlp'));
 * wrapped.addAdapter('default', { hidden: 768, bottleneck: 48, activation: 'relu' });
 */
export class BottleneckWrapper extends TransparentWrapper implements PeftLayer {
  private readonly settings = new Map<string, { activation: string; active: boolean }>();

  constructor(inner: AnyModule) {
    super(inner);
    this.registerModule('adapter_down', new AdapterDict<Linear>());
    this.registerModule('adapter_up', new AdapterDict<Linear>());
  }

  get peftAdapterNames(): string[] {
    return [...this.settings.keys()];
  }

  /** Down [bottleneck, hidden] ~ N(0, 0.02) (BERT init), biases and up-projection zero. */
  addAdapter(name: string, s: { hidden: number; bottleneck: number; activation: string; seed?: number }): void {
    if (this.settings.has(name))
      throw new MmftError('E_CONFIG', `this block already has a bottleneck adapter "${name}"; pick another adapter name`);
    this.child<AdapterDict>('adapter_down').registerModule(
      name,
      new Linear(s.hidden, s.bottleneck, { weightInit: normal(0.02), biasInit: zeros, seed: deriveSeed(s.seed, 'down') }),
    );
    this.child<AdapterDict>('adapter_up').registerModule(name, new Linear(s.bottleneck, s.hidden, { weightInit: zeros, biasInit: zeros }));
    this.settings.set(name, { activation: s.activation, active: true });
  }

  removeAdapter(name: string): void {
    for (const dict of ['adapter_down', 'adapter_up']) {
      const d = this.child<AdapterDict>(dict);
      d.get(name).dispose();
      this.setModule(dict, d.without(name));
    }
    this.settings.delete(name);
  }

  isAdapterActive(name: string): boolean {
    return this.settings.get(name)?.active ?? false;
  }

  setAdapterActive(name: string, active: boolean): void {
    const s = this.settings.get(name);
    if (s) s.active = active;
  }

  forward(...args: unknown[]): unknown {
    const out = this.inner().forward(...args);
    if (!(out instanceof tf.Tensor)) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `a bottleneck adapter follows a block that returns one tensor; ${this.constructor.name} got ${typeof out}`,
        {
          hint: 'target the block output Linear (e.g. mlp_modules: [fc2]) instead',
        },
      );
    }
    const active = [...this.settings].filter(([, s]) => s.active);
    if (active.length === 0) return out;
    return tf.tidy(() => {
      let y: tf.Tensor = out;
      for (const [name, s] of active) {
        const down = this.child<AdapterDict<Linear>>('adapter_down').get(name).forward(y);
        y = tf.add(y, this.child<AdapterDict<Linear>>('adapter_up').get(name).forward(activationOf(s.activation)(down)));
      }
      return y;
    });
  }
}

/** Output width of a block: `hidden_size` if given, else its last Linear's (or GPT-2 Conv1D's) outFeatures. */
export function blockWidth(block: AnyModule, path: string): number {
  const linears = block
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is Linear | Conv1D => m instanceof Linear || m instanceof Conv1D);
  const last = linears[linears.length - 1];
  if (!last)
    throw new MmftError(
      'E_CONFIG',
      `adapter: cannot tell the output width of "${path}" (${block.constructor.name}, no Linear or Conv1D inside)`,
      {
        hint: 'set hidden_size in the peft: section',
      },
    );
  return last.outFeatures;
}
