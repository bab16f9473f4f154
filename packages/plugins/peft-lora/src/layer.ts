// A Linear (or GPT-2's Conv1D) with LoRA adapters: y = base(x) + Σ_active scaling · B(A(dropout(x))),
// several named adapters per layer, merge/unmerge folding scaling · B A into the base weight. Follows
// LoraLayer and Linear in peft/tuners/lora/layer.py (child names base_layer, lora_A, lora_B,
// lora_dropout). A Conv1D base stores its weight [in, out] (fan_in_fan_out): the branch is the same
// A [r, in], B [out, r], and only the fold transposes, as get_delta_weight's transpose(B @ A,
// fan_in_fan_out) there (transpose in peft/utils/other.py).
import * as tf from '@tensorflow/tfjs-core';
import { AdapterDict, MmftError, type PeftLayer } from '@mmft/core';
import { Conv1D, deriveSeed, Dropout, fanInUniform, Linear, Module, normal, zeros, type Initializer } from '@mmft/core/nn';

/** The layers LoRA wraps: a Linear (weight [out, in]) or a Conv1D (weight [in, out]). */
export type LoraBaseLayer = Linear | Conv1D;

/** Settings of one adapter on one layer. */
export interface LoraAdapterSettings {
  r: number;
  scaling: number;
  dropout: number;
  init: true | false | 'gaussian';
  seed?: number;
}

/**
 * Wraps a Linear or a Conv1D. Parameter names match PEFT's in-model names:
 * `q_proj.base_layer.weight`, `q_proj.lora_A.default.weight`, `q_proj.lora_B.default.weight`.
 *
 * @example
 * const layer = new LoraLinear(root.getModule('encoder.layers.0.self_attn.q_proj', Linear));
 * layer.addAdapter('default', { r: 8, scaling: 2, dropout: 0, init: true });
 */
export class LoraLinear extends Module<[tf.Tensor], tf.Tensor> implements PeftLayer {
  private readonly settings = new Map<string, LoraAdapterSettings & { active: boolean; merged: boolean }>();

  constructor(base: LoraBaseLayer) {
    super();
    this.registerModule('base_layer', base);
    this.registerModule('lora_dropout', new AdapterDict<Dropout>());
    this.registerModule('lora_A', new AdapterDict<Linear>());
    this.registerModule('lora_B', new AdapterDict<Linear>());
  }

  get baseLayer(): LoraBaseLayer {
    return this.child<LoraBaseLayer>('base_layer');
  }

  /** The base weight is stored [in, out] (a Conv1D): PEFT's fan_in_fan_out for this layer. */
  get fanInFanOut(): boolean {
    return this.baseLayer instanceof Conv1D;
  }

  get peftAdapterNames(): string[] {
    return [...this.settings.keys()];
  }

  /** Adds adapter `name`, active, with PEFT's initialisation (`reset_lora_parameters`). */
  addAdapter(name: string, s: LoraAdapterSettings): void {
    if (this.settings.has(name))
      throw new MmftError('E_CONFIG', `this layer already has a LoRA adapter "${name}"; pick another adapter name`);
    const { inFeatures, outFeatures } = this.baseLayer;
    const aInit: Initializer | undefined = s.init === 'gaussian' ? normal(1 / s.r) : s.init ? fanInUniform(inFeatures) : undefined;
    const bInit: Initializer | undefined = s.init === false ? undefined : zeros;
    this.child<AdapterDict>('lora_dropout').registerModule(name, new Dropout(s.dropout, { seed: deriveSeed(s.seed, 'dropout') }));
    this.child<AdapterDict>('lora_A').registerModule(
      name,
      new Linear(inFeatures, s.r, { bias: false, weightInit: aInit, seed: deriveSeed(s.seed, 'A') }),
    );
    this.child<AdapterDict>('lora_B').registerModule(
      name,
      new Linear(s.r, outFeatures, { bias: false, weightInit: bInit, seed: deriveSeed(s.seed, 'B') }),
    );
    this.settings.set(name, { ...s, active: true, merged: false });
    this.train(this.training); // new dropout follows the layer's train/eval mode
  }

  /** Removes adapter `name` (disposing its weights); a merged adapter stays folded into the base. */
  removeAdapter(name: string): void {
    for (const dict of ['lora_dropout', 'lora_A', 'lora_B']) {
      const d = this.child<AdapterDict>(dict);
      d.get(name).dispose();
      this.setModule(dict, d.without(name));
    }
    this.settings.delete(name);
  }

  isAdapterActive(name: string): boolean {
    return this.settings.get(name)?.active ?? false;
  }

  /** Turning a merged adapter off unmerges it first, as PEFT's disable_adapters does. */
  setAdapterActive(name: string, active: boolean): void {
    const s = this.settings.get(name);
    if (!s) return;
    if (!active && s.merged) this.unmerge(name);
    s.active = active;
  }

  isMerged(name: string): boolean {
    return this.settings.get(name)?.merged ?? false;
  }

  /**
   * W ← W + scaling · B A, or W ← W + scaling · (B A)ᵀ for a Conv1D base (PEFT `merge`). A base
   * held in 4 bits is dequantised first and stays float32 (with a warning): see mergeInto4bitBase.
   */
  merge(name: string): void {
    const s = this.settings.get(name);
    if (!s || s.merged) return;
    const base = this.baseLayer;
    if (base instanceof Linear && base.packedWeight4bit) mergeInto4bitBase(base);
    this.foldDelta(name, 1);
    s.merged = true;
  }

  /** W ← W − scaling · B A, transposed for a Conv1D base (PEFT `unmerge`). */
  unmerge(name: string): void {
    const s = this.settings.get(name);
    if (!s || !s.merged) return;
    this.foldDelta(name, -1);
    s.merged = false;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = this.baseLayer.forward(x);
      for (const [name, s] of this.settings) {
        if (!s.active || s.merged) continue;
        const dropped = this.child<AdapterDict<Dropout>>('lora_dropout').get(name).forward(x);
        const a = this.child<AdapterDict<Linear>>('lora_A').get(name).forward(dropped);
        const delta = this.child<AdapterDict<Linear>>('lora_B').get(name).forward(a);
        // alpha = r (scaling 1) is common: skip a multiply forward and backward per layer.
        y = tf.add(y, s.scaling === 1 ? delta : tf.mul(delta, s.scaling));
      }
      return y;
    });
  }

  private foldDelta(name: string, sign: 1 | -1): void {
    const s = this.settings.get(name)!;
    const a = this.child<AdapterDict<Linear>>('lora_A').get(name).weight;
    const b = this.child<AdapterDict<Linear>>('lora_B').get(name).weight;
    const weight = this.baseLayer.weight;
    // (B A)ᵀ = Aᵀ Bᵀ: matMul's transpose flags give the [in, out] delta without a transposed copy.
    tf.tidy(() => {
      const delta = this.fanInFanOut ? tf.matMul(a, b, true, true) : tf.matMul(b, a);
      weight.assign(tf.add(weight, tf.mul(delta, sign * s.scaling)));
    });
  }
}

let warned4bitMerge = false;

/**
 * PEFT's Linear4bit.merge (peft/tuners/lora/bnb.py) dequantises the base, adds the delta and
 * quantises the sum again, warning "Merge lora module to 4-bit linear may get different generations
 * due to rounding errors". Re-quantising rounds most of the small delta away (each weight moves to
 * the nearest of 16 codes of its block), so here the base is dequantised once and keeps the merged
 * weight in float32, the unquantised merge LLaMA-Factory's docs recommend; the model's outputs then
 * equal the unmerged adapter's. Warned once per process, as Python shows a warnings.warn once.
 */
function mergeInto4bitBase(base: Linear): void {
  if (!warned4bitMerge) {
    warned4bitMerge = true;
    process.emitWarning(
      `lora: merging into a base Linear held in 4 bits (${base.packedWeight4bit!.quantType}) dequantises it and writes the merged weight ` +
        'in float32 (not re-quantised as PEFT does, which would round the adapter away); generations may differ slightly from a model ' +
        'merged into the original unquantised base, since the 4-bit rounding of the base stays in it.',
      { code: 'MMFT_LORA_MERGE_4BIT' },
    );
  }
  base.restoreWeight32();
}
