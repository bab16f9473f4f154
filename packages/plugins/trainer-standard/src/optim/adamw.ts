// AdamW with decoupled weight decay, step for step as torch.optim.AdamW (torch/optim/adamw.py,
// single-tensor path): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps). tfjs ships no AdamW (docs/facts.md §2). Each
// parameter's update is one fused kernel where the active backend registers MmftAdamWUpdate
// (@mmft/backend-tfjs does for wasm and cpu), else the ~13 elementwise ops below.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { AdamWUpdate, runFused } from '@mmft/core/kernels';

/** One parameter the optimizer updates: its name (checkpoint key) and whether it decays. */
export interface ParamEntry {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly decay: boolean;
  /**
   * Its group's peak lr over the run's (train.lr_groups); the scheduled lr is multiplied by it, so
   * the schedule scales every group as torch's LambdaLR scales each param group's initial lr.
   */
  readonly lrScale?: number;
}

export interface AdamWOptions {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

function zeroVariable(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like);
  try {
    return tf.variable(zeros, false);
  } finally {
    zeros.dispose(); // the variable holds its own reference
  }
}

interface Slot {
  step: number;
  readonly expAvg: tf.Variable;
  readonly expAvgSq: tf.Variable;
}

/** Serializable optimizer state: moments by parameter name, step counts per parameter. */
export interface AdamWState {
  readonly steps: Readonly<Record<string, number>>;
  readonly tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
}

/**
 * @example
 * const opt = new AdamW(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
 * opt.step(grads, 5e-5); // grads: name → gradient
 */
export class AdamW {
  private readonly slots = new Map<string, Slot>();

  constructor(
    readonly params: readonly ParamEntry[],
    readonly options: AdamWOptions,
  ) {
    // State only for trainable variables: frozen weights cost no optimizer memory.
    for (const p of params) {
      this.slots.set(p.name, { step: 0, expAvg: zeroVariable(p.variable), expAvgSq: zeroVariable(p.variable) });
    }
  }

  /**
   * One update with learning rate `runLr` (times each parameter's lrScale); parameters without a
   * gradient are skipped (torch: grad is None).
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, runLr: number): void {
    const [beta1, beta2] = this.options.betas;
    for (const p of this.params) {
      const g = grads.get(p.name);
      if (!g) continue;
      const lr = runLr * (p.lrScale ?? 1);
      const slot = this.slots.get(p.name)!;
      slot.step += 1;
      const weightDecay = p.decay ? this.options.weightDecay : 0;
      const attrs = { lr, beta1, beta2, eps: this.options.eps, weightDecay, step: slot.step };
      const inputs = { param: p.variable, grad: g, expAvg: slot.expAvg, expAvgSq: slot.expAvgSq };
      const fused = p.variable.dtype === 'float32' && g.dtype === 'float32' ? runFused(AdamWUpdate, inputs, attrs) : undefined;
      if (fused) {
        const [param, m, v] = fused;
        slot.expAvg.assign(m!);
        slot.expAvgSq.assign(v!);
        p.variable.assign(param!);
        tf.dispose([param!, m!, v!]); // the variables hold their own references now
        continue;
      }
      const bias1 = 1 - beta1 ** slot.step;
      const bias2Sqrt = Math.sqrt(1 - beta2 ** slot.step);
      tf.tidy(() => {
        const decayed = p.decay && this.options.weightDecay > 0 ? tf.mul(p.variable, 1 - lr * this.options.weightDecay) : p.variable;
        const m = tf.add(tf.mul(slot.expAvg, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(slot.expAvgSq, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bias2Sqrt), this.options.eps);
        slot.expAvg.assign(m);
        slot.expAvgSq.assign(v);
        p.variable.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bias1)));
      });
    }
  }

  /** Moments and step counts, for optimizer.safetensors. */
  async state(): Promise<AdamWState> {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    const steps: Record<string, number> = {};
    for (const [name, slot] of this.slots) {
      steps[name] = slot.step;
      tensors.set(`${name}.exp_avg`, { shape: slot.expAvg.shape, data: (await slot.expAvg.data()) as Float32Array });
      tensors.set(`${name}.exp_avg_sq`, { shape: slot.expAvgSq.shape, data: (await slot.expAvgSq.data()) as Float32Array });
    }
    return { steps, tensors };
  }

  /** Restore `state()`; every trainable parameter must be present with its shape. */
  load(state: AdamWState, file: string): void {
    for (const [name, slot] of this.slots) {
      const m = state.tensors.get(`${name}.exp_avg`);
      const v = state.tensors.get(`${name}.exp_avg_sq`);
      const step = state.steps[name];
      if (
        !m ||
        !v ||
        step === undefined ||
        !tf.util.arraysEqual(m.shape, slot.expAvg.shape) ||
        !tf.util.arraysEqual(v.shape, slot.expAvgSq.shape)
      ) {
        throw new MmftError(
          'E_CHECKPOINT',
          `${file}: no optimizer state of shape [${slot.expAvg.shape.join(', ')}] for parameter "${name}"`,
          {
            hint: 'resume with the same model, peft and strategy settings as the run that wrote the checkpoint',
          },
        );
      }
      slot.step = step;
      tf.tidy(() => {
        slot.expAvg.assign(tf.tensor(m.data, m.shape));
        slot.expAvgSq.assign(tf.tensor(v.data, v.shape));
      });
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.expAvg.dispose();
      slot.expAvgSq.dispose();
    }
  }
}
