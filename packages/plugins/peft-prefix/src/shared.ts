// Pieces prefix and prompt tuning share: the `prompt_encoder` container on the model root
// (PEFT's `PeftModel.prompt_encoder` ModuleDict), the check of model-derived config fields, and
// reading the single `prompt_embeddings` tensor PEFT saves for prompt-learning methods.
import type * as tf from '@tensorflow/tfjs-core';
import { AdapterDict, MmftError } from '@mmft/core';
import type { Module } from '@mmft/core/nn';

/** The root's `prompt_encoder` container, registered on first use. */
export function encoderDict(root: Module): AdapterDict {
  const existing = root.namedChildren().find(([n]) => n === 'prompt_encoder')?.[1];
  if (existing instanceof AdapterDict) return existing;
  if (existing)
    throw new MmftError(
      'E_CONFIG',
      `the model already has a child "prompt_encoder" (${existing.constructor.name}); prompt-learning adapters need that name`,
    );
  return root.registerModule('prompt_encoder', new AdapterDict());
}

/** A config field that must equal what the model has (token_dim, num_layers...). */
export function checkModelField(method: string, field: string, given: number | undefined, actual: number): void {
  if (given !== undefined && given !== actual) {
    throw new MmftError('E_CONFIG', `${method}: ${field} is ${given} in the config but the targeted model has ${actual}`, {
      hint: 'the adapter was made for another base model or other target_modules; drop the field to read it from the model',
    });
  }
}

/** The one tensor of a prompt-learning adapter file, shape-checked; other keys are errors. */
export function loadPromptEmbeddings(
  tensors: ReadonlyMap<string, tf.Tensor>,
  shape: readonly number[],
  method: string,
  adapterName: string,
): tf.Tensor {
  const unknown = [...tensors.keys()].filter((k) => k !== 'prompt_embeddings');
  const t = tensors.get('prompt_embeddings');
  const problems: string[] = [];
  if (unknown.length) problems.push(`unknown keys (${unknown.length}): ${unknown.slice(0, 10).join(', ')}`);
  if (!t) problems.push('missing keys (1): prompt_embeddings');
  else if (t.shape.join() !== shape.join()) problems.push(`wrong shape (1): prompt_embeddings: expected [${shape}], got [${t.shape}]`);
  if (problems.length) {
    throw new MmftError(
      'E_CHECKPOINT',
      [`${method} adapter "${adapterName}": the adapter tensors do not fit the model`, ...problems.map((p) => `  ${p}`)].join('\n'),
      {
        hint: 'PEFT saves prompt-learning adapters as one tensor "prompt_embeddings"; check num_virtual_tokens and the base model',
      },
    );
  }
  return t!;
}
