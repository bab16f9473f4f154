// Gradient (activation) checkpointing: a checkpointed block keeps only its inputs for the backward
// pass, and its gradient function recomputes the block under a tape of its own and backpropagates
// through that, so a stack holds one block's intermediates at a time. Follows
// torch/utils/checkpoint.py (checkpoint, preserve_rng_state) and the per-layer switch of transformers'
// GradientCheckpointingLayer (src/transformers/modeling_layers.py); the tape handling relies on
// tfjs-core 4.22 src/engine.ts (customGrad, gradients) as docs/training.md "Gradient checkpointing" explains.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '../errors';
import { attentionRecorder } from './attention-record';
import { watchDropouts, type Dropout } from './dropout';
import type { AnyModule } from './module';
import type { ModuleList } from './module-list';

/** The fields of a tfjs tape node this file reads (tfjs-core src/tape.ts TapeNode). */
interface TapeNodeView {
  inputs: Record<string, tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineStateView {
  activeTape: TapeNodeView[] | null;
  activeScope: { id: number } | null;
}

const engineState = (): EngineStateView => (tf.engine() as unknown as { state: EngineStateView }).state;

/**
 * Runs `fn(...inputs)` so that the enclosing gradient computation keeps only `inputs`, not the
 * intermediates of `fn`: its gradient recomputes `fn` and takes the gradient of that recomputation
 * with respect to the float32 inputs and the trainable variables `fn` reads. Dropouts inside `fn`
 * draw the same masks in the recomputation. With no tape recording (inference, evaluation) or while
 * attention probabilities are being recorded it simply returns `fn(...inputs)`.
 *
 * `fn` is called with `...inputs, ...options.constants`. Every tensor `fn` reads that is created by
 * the caller's forward pass (masks, positions, rotary tables, encoder states) must be passed so: a
 * tensor captured by the closure is disposed when the caller's forward ends, before the
 * recomputation runs. Variables may be read freely. Constants get no gradient work (masks, rotary
 * tables); an input that needs a gradient (hidden states, image features) must be in `inputs`.
 * `params` restricts the variables that get gradients (default: every trainable variable `fn` reads,
 * which is also the set the gradient of the plain forward covers).
 *
 * @example
 * const y = checkpointed((h, mask) => layer.forward(h, mask), [hidden], undefined, { constants: [mask] });
 */
export function checkpointed(
  fn: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[],
  params?: readonly tf.Variable[],
  options: CheckpointedOptions = {},
): tf.Tensor {
  const constants = options.constants ?? [];
  const args = [...inputs, ...constants];
  if (!tf.engine().isTapeOn() || attentionRecorder() !== undefined) return fn(...args);
  // The forward runs on a tape of its own: what it records says which variables the block reads,
  // then its saved tensors are freed at once instead of living until the caller's backward.
  const state = engineState();
  const outerTape = state.activeTape;
  const ownTape: TapeNodeView[] = [];
  state.activeTape = ownTape;
  let ran: { result: tf.Tensor; before: Map<Dropout, number> };
  try {
    ran = watchDropouts(() =>
      tf.tidy(() => {
        const out = fn(...args);
        return args.includes(out) ? tf.clone(out) : out; // a tape node must not output its own input
      }),
    );
  } finally {
    state.activeTape = outerTape;
  }
  const read = new Set<tf.Tensor>();
  for (const node of ownTape) {
    for (const t of Object.values(node.inputs)) if (t instanceof tf.Variable && t.trainable) read.add(t);
    for (const t of node.saved ?? []) t.dispose();
  }
  const allowed = params ? new Set<tf.Tensor>(params) : undefined;
  const variables = [...read].filter((v) => !allowed || allowed.has(v)) as tf.Variable[];
  const { result: output, before: dropoutCounts } = ran;

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    const differentiable = saved.slice(0, inputs.length).filter((t) => t.dtype === 'float32');
    const xs = [...differentiable, ...variables];
    const after = new Map([...dropoutCounts.keys()].map((d) => [d, d.drawnMasks] as const));
    for (const [dropout, count] of dropoutCounts) dropout.drawnMasks = count;
    const tapeInUse = engineState().activeTape;
    let result: tf.Tensor[] = [];
    try {
      const { value, grads } = tf.engine().gradients(() => fn(...saved), xs, dy, true);
      value.dispose();
      const gradOf = new Map(xs.map((x, i) => [x, grads[i]] as const));
      // customGrad wants a tensor per input. A float input the block does not read gets zeros of its
      // shape; constants and integer inputs get a scalar that the caller's backward never asks for
      // (it only asks for inputs that depend on what it differentiates; if it did, tfjs would
      // refuse the scalar's shape loudly rather than use a wrong gradient).
      const isConstant = (x: tf.Tensor): boolean => saved.indexOf(x) >= inputs.length;
      const fill = (x: tf.Tensor): tf.Tensor =>
        gradOf.get(x) ?? (x.dtype === 'float32' && !isConstant(x) ? tf.zeros(x.shape) : tf.scalar(0));
      result = [...saved.map(fill), ...variables.map(fill)];
      return result;
    } finally {
      // A nested gradients() at depth 0 replaces and then clears the engine's active tape; the
      // caller's backward still needs it to free its saved tensors at the end.
      engineState().activeTape = tapeInUse;
      // The block output's gradient is final once its block has run backward, and nothing reads it
      // again; tfjs would keep it until the whole gradient call ends (one [B, T, D] per block).
      // Only a gradient the backward itself made is freed, never a dy the caller passed in, nor one
      // handed back as an input's gradient.
      const scope = engineState().activeScope;
      if (scope && !dy.kept && dy.scopeId === scope.id && !result.includes(dy)) dy.dispose();
      for (const [dropout, count] of after) dropout.drawnMasks = count;
    }
  };

  const op = tf.customGrad((...opArgs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    (opArgs[opArgs.length - 1] as tf.GradSaveFunc)([...inputs, ...constants]);
    return { value: output, gradFunc };
  });
  return op(...inputs, ...constants, ...variables);
}

/** Options of `checkpointed`. */
export interface CheckpointedOptions {
  /** Tensors `fn` reads after `inputs` that need no gradient (masks, positions, rotary tables). */
  constants?: readonly tf.Tensor[];
}

/** `true` checkpoints every block, `{ everyNBlocks: N }` blocks 0, N, 2N, …; `false` none. */
export type GradientCheckpointing = boolean | { everyNBlocks: number };

// Block stack → N (checkpoint blocks whose index is a multiple of N; 0 = off).
const stacks = new WeakMap<AnyModule, number>();

/**
 * Marks `list` as a stack of transformer blocks that `runBlocks` drives, so that
 * `setGradientCheckpointing` finds it; returns `list`.
 *
 * @example
 * this.registerModule('layers', blockStack(new ModuleList(layers)));
 */
export function blockStack<L extends ModuleList>(list: L): L {
  if (!stacks.has(list)) stacks.set(list, 0);
  return list;
}

/**
 * Sets gradient checkpointing on every block stack under `root` (transformers'
 * gradient_checkpointing_enable / disable); returns how many stacks it set (0: the model has none).
 *
 * @example
 * if (setGradientCheckpointing(model.root, true) === 0) throw new Error('no block stacks');
 */
export function setGradientCheckpointing(root: AnyModule, setting: GradientCheckpointing): number {
  const every = setting === false ? 0 : setting === true ? 1 : setting.everyNBlocks;
  if (!Number.isInteger(every) || every < 0) {
    throw new MmftError('E_CONFIG', `gradient checkpointing every_n_blocks must be a whole number ≥ 1, got ${every}`, {
      hint: 'use true (every block), false, or { every_n_blocks: 2 } for every other block',
    });
  }
  let count = 0;
  for (const [, module] of root.namedModules()) {
    if (!stacks.has(module)) continue;
    stacks.set(module, every);
    count += 1;
  }
  return count;
}

/** The checkpointing interval of a block stack: 0 when off or when `stack` is no block stack. */
export function gradientCheckpointingOf(stack: AnyModule): number {
  return stacks.get(stack) ?? 0;
}

/** Options of `runBlocks`. */
export interface RunBlocksOptions {
  /** Tensors every block reads besides the hidden state that may need a gradient (encoder states); `call` gets them first. */
  extras?: readonly tf.Tensor[];
  /** Tensors every block reads that need no gradient (masks, rotary tables); `call` gets them after `extras`. */
  constants?: readonly tf.Tensor[];
  /** Run without checkpointing (a KV cache is filled, or the caller reads more than the hidden state). */
  plain?: boolean;
  /** Run only the first `count` blocks (a vision tower read at an inner layer). */
  count?: number;
  /** Sees each block's output (output_hidden_states); the tensor belongs to the running forward. */
  onOutput?: (index: number, hidden: tf.Tensor) => void;
}

/**
 * Runs the blocks of `stack` in order, `hidden = call(block, hidden, [...extras, ...constants], index)`, checkpointing
 * the blocks the stack's setting selects (see `setGradientCheckpointing`). `call` must read every
 * tensor of the running forward through `extras`, not from its closure (see `checkpointed`).
 *
 * @example
 * h = runBlocks(layers, h, (layer, x, [mask]) => layer.forward(x, mask), { constants: [mask] });
 */
export function runBlocks<M extends AnyModule>(
  stack: ModuleList<M>,
  hidden: tf.Tensor,
  call: (block: M, hidden: tf.Tensor, tensors: readonly tf.Tensor[], index: number) => tf.Tensor,
  options: RunBlocksOptions = {},
): tf.Tensor {
  const every = options.plain ? 0 : gradientCheckpointingOf(stack);
  const extras = options.extras ?? [];
  const constants = options.constants ?? [];
  const all = [...extras, ...constants];
  const count = options.count ?? stack.length;
  let h = hidden;
  for (let i = 0; i < count; i++) {
    const block = stack.get(i);
    h =
      every > 0 && i % every === 0
        ? checkpointed((x, ...rest) => call(block, x, rest, i), [h, ...extras], undefined, { constants })
        : call(block, h, all, i);
    options.onOutput?.(i, h);
  }
  return h;
}
