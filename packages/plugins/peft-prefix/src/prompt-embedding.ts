// The virtual-token table of one prompt-tuning adapter, `prompt_encoder.<adapter>.embedding.weight`
// [P, D] as PEFT's PromptEmbedding (peft/tuners/prompt_tuning/model.py), N(0, 1) as its RANDOM init.
import type * as tf from '@tensorflow/tfjs-core';
import type { PeftLayer } from '@mmft/core';
import { deriveSeed, Embedding, Module } from '@mmft/core/nn';

/** The virtual-token table of one adapter; on/off like every PEFT layer. */
export class PromptEmbedding extends Module<[], tf.Tensor> implements PeftLayer {
  active = true;

  constructor(
    readonly adapterName: string,
    readonly numVirtualTokens: number,
    readonly tokenDim: number,
    options: { seed?: number; onChange?: () => void } = {},
  ) {
    super();
    this.onChange = options.onChange;
    this.registerModule('embedding', new Embedding(numVirtualTokens, tokenDim, { seed: deriveSeed(options.seed, 'embedding') }));
  }

  private readonly onChange?: () => void;

  get peftAdapterNames(): string[] {
    return [this.adapterName];
  }

  isAdapterActive(name: string): boolean {
    return name === this.adapterName && this.active;
  }

  /** Turning the tokens on or off re-installs the injection source (none when all are off). */
  setAdapterActive(name: string, active: boolean): void {
    if (name !== this.adapterName) return;
    this.active = active;
    this.onChange?.();
  }

  forward(): tf.Tensor {
    return this.child<Embedding>('embedding').weight;
  }
}
