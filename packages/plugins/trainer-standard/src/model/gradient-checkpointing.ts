// train.gradient_checkpointing: every block stack of the model (CLIP towers, decoder layers, the
// Q-Former, vision towers) recomputes its blocks in the backward pass (@mmft/core/nn
// setGradientCheckpointing), as transformers' TrainingArguments.gradient_checkpointing calls
// model.gradient_checkpointing_enable() (src/transformers/trainer.py). Evaluation and generation
// need no switch: they record no gradient tape, and without one a checkpointed block runs plainly.
import { MmftError, type RunContext } from '@mmft/core';
import { setGradientCheckpointing, type AnyModule, type GradientCheckpointing } from '@mmft/core/nn';
import type { TrainConfig } from '../config';

/** The recipe's value in core's terms. */
export function checkpointingSetting(value: TrainConfig['gradient_checkpointing']): GradientCheckpointing {
  return typeof value === 'boolean' ? value : { everyNBlocks: value.every_n_blocks };
}

/**
 * Turns checkpointing on for every block stack of `model.root` and reports how many; a model with
 * none is an error naming its model type. Returns the number of stacks (0 when the recipe leaves it off).
 *
 * @example
 * applyGradientCheckpointing(loaded.model, true, context); // "gradient_checkpointing: 2 block stacks, every block"
 */
export function applyGradientCheckpointing(
  model: { readonly modelType: string; readonly root: AnyModule },
  value: TrainConfig['gradient_checkpointing'],
  context: Pick<RunContext, 'reporter'>,
): number {
  const setting = checkpointingSetting(value);
  if (setting === false) return 0;
  const stacks = setGradientCheckpointing(model.root, setting);
  if (stacks === 0) {
    throw new MmftError(
      'E_CONFIG',
      `train.gradient_checkpointing: model type "${model.modelType}" (${model.root.constructor.name}) has no transformer block stack to checkpoint`,
      {
        hint:
          'set train.gradient_checkpointing: false for this model; an architecture plugin opts in by registering its layer list ' +
          'with blockStack() and running it with runBlocks() (@mmft/core/nn)',
      },
    );
  }
  const every = setting === true ? 'every block' : `every ${setting.everyNBlocks} blocks`;
  context.reporter.info(`gradient_checkpointing: ${stacks} block stack${stacks === 1 ? '' : 's'}, ${every}`);
  return stacks;
}
