// The memory switches of a training experiment — the recipe's own train.gradient_checkpointing and
// train.frozen_dtype (trainer-standard src/config.ts) — applied to the built model the way the
// trainer applies them: after PEFT and freezing (so "frozen" is final) and before the optimizer
// collects its parameters, through core's setGradientCheckpointing and storeFrozenWeights16
// (packages/core/src/nn/checkpoint.ts, frozen16.ts).
import { MmftError } from '@mmft/core';
import { setGradientCheckpointing, storeFrozenWeights16, type AnyModule } from '@mmft/core/nn';
import type { AppliedMemory } from '../suite/result';

/** train.gradient_checkpointing in core's terms: false, every block, or every N-th block. */
export type CheckpointSetting = boolean | { readonly everyNBlocks: number };

/** train.frozen_dtype. */
export type FrozenDtype = AppliedMemory['frozenDtype'];

/** Both switches of one experiment. */
export interface MemorySettings {
  readonly checkpointing: CheckpointSetting;
  readonly frozenDtype: FrozenDtype;
}

/** The core functions the switches call (tests pass stand-ins). */
export interface MemoryApi {
  readonly setGradientCheckpointing: (root: AnyModule, setting: CheckpointSetting) => number;
  readonly storeFrozenWeights16: (root: AnyModule, format: 'bf16' | 'fp16') => { packed: number; bytesSaved: number };
}

const CORE_API: MemoryApi = { setGradientCheckpointing, storeFrozenWeights16 };

const FROZEN_DTYPES: readonly FrozenDtype[] = ['f32', 'bf16', 'fp16'];

/**
 * The switches of a parsed train: section (fields the schema of this build may not have yet read as
 * their defaults: off and f32); a malformed value is an E_RECIPE naming the file and the field.
 *
 * @example
 * memorySettingsOf({ gradient_checkpointing: { every_n_blocks: 2 } }, 'x.yaml'); // { checkpointing: { everyNBlocks: 2 }, frozenDtype: 'f32' }
 */
export function memorySettingsOf(train: Readonly<Record<string, unknown>>, file: string): MemorySettings {
  const raw = train.gradient_checkpointing ?? false;
  let checkpointing: CheckpointSetting;
  if (typeof raw === 'boolean') checkpointing = raw;
  else {
    const n = (raw as { every_n_blocks?: unknown } | null)?.every_n_blocks;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new MmftError(
        'E_RECIPE',
        `${file}: train.gradient_checkpointing must be true, false or { every_n_blocks: N ≥ 1 }, not ${JSON.stringify(raw)}`,
      );
    }
    checkpointing = n === 1 ? true : { everyNBlocks: n };
  }
  const frozenDtype = (train.frozen_dtype ?? 'f32') as FrozenDtype;
  if (!FROZEN_DTYPES.includes(frozenDtype)) {
    throw new MmftError(
      'E_RECIPE',
      `${file}: train.frozen_dtype must be one of ${FROZEN_DTYPES.join(', ')}, not ${JSON.stringify(train.frozen_dtype)}`,
    );
  }
  return { checkpointing, frozenDtype };
}

/** How a checkpoint setting reads in tables. */
export function describeCheckpointing(setting: CheckpointSetting): string {
  if (setting === false) return 'off';
  return setting === true ? 'every block' : `every ${setting.everyNBlocks} blocks`;
}

/**
 * Apply `settings` to the model under `root`; returns what was applied, for the result record.
 * `modelType` names the model in the error when it has no block stack to checkpoint.
 *
 * @example
 * const applied = applyMemorySettings(model.root, memorySettingsOf(train, file), { file, modelType: 'clip' });
 */
export function applyMemorySettings(
  root: AnyModule,
  settings: MemorySettings,
  where: { readonly file: string; readonly modelType: string },
  api: MemoryApi = CORE_API,
): AppliedMemory {
  let checkpointedStacks: number | undefined;
  if (settings.checkpointing !== false) {
    checkpointedStacks = api.setGradientCheckpointing(root, settings.checkpointing);
    if (checkpointedStacks === 0) {
      throw new MmftError(
        'E_CONFIG',
        `${where.file}: model type "${where.modelType}" has no block stack that gradient checkpointing can run`,
        {
          hint: "remove train.gradient_checkpointing from the experiment, or add checkpointing to the architecture's layer loop",
        },
      );
    }
  }
  let packed: { packed: number; bytesSaved: number } | undefined;
  if (settings.frozenDtype !== 'f32') {
    packed = api.storeFrozenWeights16(root, settings.frozenDtype);
    // The trainer refuses this too (trainer-standard src/model/frozen-dtype.ts): the row would measure nothing.
    if (packed.packed === 0) {
      throw new MmftError(
        'E_CONFIG',
        `${where.file}: train.frozen_dtype ${settings.frozenDtype}: model type "${where.modelType}" has no frozen Linear weight to hold in 16 bits`,
        {
          hint: 'add a peft: section or train.freeze entries to the experiment, or leave frozen_dtype at f32',
        },
      );
    }
  }
  return {
    checkpointing: describeCheckpointing(settings.checkpointing),
    frozenDtype: settings.frozenDtype,
    checkpointedStacks,
    packedWeights: packed?.packed,
    bytesSaved: packed?.bytesSaved,
  };
}
