// The memory switches of a training experiment — the recipe's own train.gradient_checkpointing,
// model.quantization and train.frozen_dtype (trainer-standard src/config.ts, core's model section) —
// applied to the built model the way the trainer applies them: after PEFT and freezing (so "frozen"
// is final) and before the optimizer collects its parameters, through core's setGradientCheckpointing,
// quantizeLinears4bit and storeFrozenWeights16 (packages/core/src/nn/checkpoint.ts, quant4.ts,
// frozen16.ts), quantisation before 16-bit storage as trainer-standard src/loop/setup.ts orders them.
import { MmftError } from '@mmft/core';
import {
  linears4bit,
  quantizedWeights4bit,
  quantizeLinears4bit,
  quantizeOptionsOf,
  setGradientCheckpointing,
  storeFrozenWeights16,
  type AnyModule,
  type PackedWeight4bit,
  type QuantizeLinears4bitOptions,
  type QuantizeLinears4bitResult,
} from '@mmft/core/nn';
import { BitsAndBytes4bitConfig, bitsPerParameter, type Quantized4bit } from '@mmft/core/quant';
import type { AppliedMemory, AppliedQuantization } from '../suite/result';

/** train.gradient_checkpointing in core's terms: false, every block, or every N-th block. */
export type CheckpointSetting = boolean | { readonly everyNBlocks: number };

/** train.frozen_dtype. */
export type FrozenDtype = AppliedMemory['frozenDtype'];

/** The switches of one experiment. */
export interface MemorySettings {
  readonly checkpointing: CheckpointSetting;
  readonly frozenDtype: FrozenDtype;
  /** model.quantization, parsed; absent: the base stays float32. */
  readonly quantization?: BitsAndBytes4bitConfig;
}

/** The core functions the switches call (tests pass stand-ins). */
export interface MemoryApi {
  readonly setGradientCheckpointing: (root: AnyModule, setting: CheckpointSetting) => number;
  readonly storeFrozenWeights16: (root: AnyModule, format: 'bf16' | 'fp16') => { packed: number; bytesSaved: number };
  readonly quantizeLinears4bit: (root: AnyModule, options: QuantizeLinears4bitOptions) => QuantizeLinears4bitResult;
  /** The 4-bit weights as stored (bitsandbytes' arrays) and as the kernels hold them, by weight name. */
  readonly quantizedWeights4bit: (root: AnyModule) => Map<string, Quantized4bit>;
  readonly linears4bit: (root: AnyModule) => Map<string, PackedWeight4bit>;
}

const CORE_API: MemoryApi = { setGradientCheckpointing, storeFrozenWeights16, quantizeLinears4bit, quantizedWeights4bit, linears4bit };

/**
 * The recipe's model.quantization, parsed as core's recipe schema parses it (BitsAndBytes4bitConfig:
 * QLoRA's defaults nf4, double quantisation, block 64); undefined when absent. A malformed section is
 * an E_RECIPE naming the file and the field.
 *
 * @example
 * quantizationOf({ quantization: { load_in_4bit: true } }, 'x.yaml')?.quant_type; // 'nf4'
 */
export function quantizationOf(model: Readonly<Record<string, unknown>> | undefined, file: string): BitsAndBytes4bitConfig | undefined {
  const section = model?.quantization;
  if (section === undefined) return undefined;
  const parsed = BitsAndBytes4bitConfig.safeParse(section);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `model.quantization.${issue.path.join('.')}: ${issue.message}`);
    throw new MmftError('E_RECIPE', `${file}: ${problems.join('; ')}`, {
      hint: 'model.quantization: { load_in_4bit: true, quant_type: nf4 | fp4, double_quant: true, block_size: 64 } (docs/qlora.md)',
    });
  }
  return parsed.data;
}

/**
 * Bits per parameter of 4-bit weights, summed over all of them: stored bits (core's bitsPerParameter
 * of each weight: packed codes, absmax, nested absmax) ÷ elements, and the same for the tensors the
 * kernels read (int32 words of the packed bytes, the de-nested float32 absmax, the 16-float code).
 *
 * @example
 * bitsOf(quantizedWeights4bit(root).values(), linears4bit(root).values()); // { params, stored: 4.127, resident: 4.5 }
 */
export function bitsOf(
  stored: Iterable<Quantized4bit>,
  resident: Iterable<PackedWeight4bit>,
): { params: number; stored: number; resident: number } {
  let [params, storedBits] = [0, 0];
  for (const q of stored) {
    params += q.length;
    storedBits += bitsPerParameter(q) * q.length;
  }
  let [residentParams, residentBits] = [0, 0];
  for (const w of resident) {
    residentParams += w.shape[0] * w.shape[1];
    residentBits += 8 * (w.packed.size * 4 + w.absmax.size * 4 + w.code.size * 4);
  }
  return {
    params,
    stored: params > 0 ? storedBits / params : Number.NaN,
    resident: residentParams > 0 ? residentBits / residentParams : Number.NaN,
  };
}

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
  where: { readonly file: string; readonly modelType: string; readonly hasAdapter?: boolean },
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
  const quantization = settings.quantization ? applyQuantization(root, settings.quantization, where, api) : undefined;
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
    quantization,
  };
}

/** model.quantization as the trainer applies it (trainer-standard src/model/quantization.ts), measured on the weights it produced. */
function applyQuantization(
  root: AnyModule,
  config: BitsAndBytes4bitConfig,
  where: { readonly file: string; readonly modelType: string; readonly hasAdapter?: boolean },
  api: MemoryApi,
): AppliedQuantization {
  // The trainer refuses both too: a purely quantised model cannot train, and nothing quantised measures nothing.
  if (where.hasAdapter === false) {
    throw new MmftError(
      'E_CONFIG',
      `${where.file}: model.quantization: model type "${where.modelType}" would train with its Linear weights frozen in 4 bits and no adapter`,
      {
        hint: 'add a peft: section (QLoRA trains LoRA on the 4-bit base), or remove model.quantization',
      },
    );
  }
  const result = api.quantizeLinears4bit(root, quantizeOptionsOf(config));
  if (result.quantized === 0) {
    throw new MmftError(
      'E_CONFIG',
      `${where.file}: model.quantization: model type "${where.modelType}" has no frozen Linear weight to hold in 4 bits`,
      {
        hint: 'check model.quantization.skip_modules, and that a peft: section froze the base',
      },
    );
  }
  const bits = bitsOf(api.quantizedWeights4bit(root).values(), api.linears4bit(root).values());
  return {
    quantType: config.quant_type,
    blockSize: config.block_size,
    doubleQuant: config.double_quant,
    quantizedWeights: result.quantized,
    quantizedParams: bits.params,
    bytesSaved: result.bytesSaved,
    bitsPerParameter: bits.stored,
    residentBitsPerParameter: bits.resident,
    skipped: result.skipped,
  };
}
