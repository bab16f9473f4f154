// Reading the part folders of an `init:` block and writing their tensors into a fresh BLIP-2: the
// model_type checks, the float32 views, and the all-or-nothing checked assignment. The state-dict
// names written are those of transformers' Blip2ForConditionalGeneration
// (src/transformers/models/blip_2/modeling_blip_2.py).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { readHfFolder, type HfFolder } from '@mmft/core/hf';
import { readShardedSafetensors, type SafetensorsTensor } from '@mmft/core/io';

export type Json = Record<string, unknown>;
/** A host-side float32 tensor read from a part folder. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export const CLIP_TYPES = ['clip', 'clip_vision_model'];
export const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
export const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;
export const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
/** Fields config.json carries about the file rather than the model; never copied into a sub-config. */
export const FILE_FIELDS = ['architectures', 'torch_dtype', 'transformers_version', '_name_or_path'];
export const withoutFields = (config: Json, fields: readonly string[]): Json =>
  Object.fromEntries(Object.entries(config).filter(([key]) => !fields.includes(key)));

/** The model_type of a part folder, or an E_CONFIG error naming the init field and what it accepts. */
export function partType(folder: HfFolder, field: string, accepted: readonly string[] | undefined): string {
  const type = folder.modelType;
  if (typeof type !== 'string' || (accepted && !accepted.includes(type))) {
    throw new MmftError(
      'E_CONFIG',
      `init.${field}: ${folder.dir}/config.json has model_type ${JSON.stringify(folder.config.model_type)}; init.${field} takes ${
        accepted ? accepted.join(' or ') : 'a causal-LM checkpoint'
      }`,
      {
        hint:
          field === 'vision'
            ? 'give a CLIP folder (model_type clip / clip_vision_model) or a BLIP-2 folder'
            : field === 'qformer'
              ? 'give a BLIP-2 folder (model_type blip-2), e.g. the output of a stage-1 run'
              : 'give a folder with config.json (model_type opt, gpt2, llama, ...) and model.safetensors',
      },
    );
  }
  return type;
}

export const subConfig = (folder: HfFolder, name: string): Json => {
  const value = folder.config[name] ?? {};
  if (!isRecord(value)) throw new MmftError('E_CONFIG', `${folder.dir}/config.json: ${name} must be an object`);
  return value;
};

/** Reads a part folder's weights as float32 (F16 / BF16 upcast by the reader). */
export async function readPart(dir: string, field: string, accepted: readonly string[] | undefined) {
  const folder = await readHfFolder(dir, { modelName: field === 'vision' ? 'CLIP or BLIP-2' : 'BLIP-2' });
  const type = partType(folder, field, accepted);
  const { tensors, files } = await readShardedSafetensors(dir);
  return { type, tensors: new Map(tensors), file: files.length === 1 ? files[0]! : `${dir}/model.safetensors.index.json` };
}

export const asTensor = (t: SafetensorsTensor, name: string, file: string): Tensor => {
  if (!(t.data instanceof Float32Array))
    throw new MmftError('E_CHECKPOINT', `${file}: ${name} is ${t.dtype}, expected a floating-point tensor`);
  return { shape: t.shape, data: t.data };
};

/**
 * Checks every (target name, tensor) against the model's variables (name known, shape equal),
 * then writes them all: a failing part leaves the model as it was.
 */
export function assignChecked(variables: Map<string, tf.Variable>, writes: Map<string, Tensor & { from: string }>, file: string): number {
  for (const [name, tensor] of writes) {
    const variable = variables.get(name);
    if (!variable) throw new MmftError('E_CHECKPOINT', `${file}: ${tensor.from} maps to ${name}, which this BLIP-2 does not have`);
    if (!sameShape(variable.shape, tensor.shape)) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${file}: ${tensor.from} has shape ${shapeText(tensor.shape)} but ${name} of this BLIP-2 is ${shapeText(variable.shape)}`,
        {
          hint: 'leave the shape fields (hidden_size, image_size, num_query_tokens, ...) out of model.config so they come from the part folders',
        },
      );
    }
  }
  for (const [name, tensor] of writes) {
    const variable = variables.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(tensor.data, [...tensor.shape], 'float32')));
  }
  return writes.size;
}

/** Every target tensor under `prefix` (and `extra`) from a BLIP-2 folder of the same names. */
export function sameNames(
  tensors: Map<string, SafetensorsTensor>,
  targets: readonly string[],
  file: string,
  field: string,
): Map<string, Tensor & { from: string }> {
  const writes = new Map<string, Tensor & { from: string }>();
  for (const name of targets) {
    const t = tensors.get(name);
    if (!t) {
      throw new MmftError('E_CHECKPOINT', `${file} has no tensor ${name} (init.${field})`, {
        hint: 'the folder must hold a BLIP-2 whose shapes match model.config (leave shape fields out of model.config to take them from the folder)',
      });
    }
    writes.set(name, { ...asTensor(t, name, file), from: name });
  }
  return writes;
}
