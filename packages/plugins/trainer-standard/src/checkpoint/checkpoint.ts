// Checkpoint folders (<output>/checkpoint-last, checkpoint-best): the model as its architecture
// saves it (or the PEFT adapter), trainable.safetensors (every trainable weight, what resume
// restores), optimizer.safetensors (AdamW moments; per-parameter steps in the metadata) and
// trainer_state.json. Written through core's writeFolder (staged copy, completion marker, swap
// that the next write repairs if a kill interrupted it), as HF Trainer's _save_checkpoint stages.
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError, writeFolder } from '@mmft/core';
import type { AdamW, ParamEntry } from '../optim/adamw';
import { readTensorFile, writeTensorFile } from '@mmft/core/io';
import { TRAINER_STATE_FILE, type TrainerState } from './trainer-state';

/** The completion marker's kind for trainer checkpoint folders. */
export const CHECKPOINT_KIND = 'checkpoint';

/**
 * Write a checkpoint folder atomically.
 *
 * @example
 * await writeCheckpoint(path.join(out, 'checkpoint-last'), { state, optimizer, params, saveModel: (d) => model.save(path.join(d, 'model')) });
 */
export async function writeCheckpoint(
  dir: string,
  parts: { state: TrainerState; optimizer: AdamW; params: readonly ParamEntry[]; saveModel: (staged: string) => Promise<void> },
): Promise<void> {
  try {
    await writeFolder(
      dir,
      async (staged) => {
        await parts.saveModel(staged);
        const weights = new Map<string, { shape: number[]; data: Float32Array }>();
        for (const p of parts.params) weights.set(p.name, { shape: p.variable.shape, data: (await p.variable.data()) as Float32Array });
        await writeTensorFile(path.join(staged, 'trainable.safetensors'), weights, { format: 'mmft-trainable' });
        const optimizer = await parts.optimizer.state();
        await writeTensorFile(path.join(staged, 'optimizer.safetensors'), optimizer.tensors, {
          format: 'mmft-adamw',
          steps: JSON.stringify(optimizer.steps),
        });
        await fs.writeFile(path.join(staged, TRAINER_STATE_FILE), `${JSON.stringify(parts.state, null, 2)}\n`);
      },
      { kind: CHECKPOINT_KIND },
    );
  } catch (cause) {
    throw cause instanceof MmftError
      ? cause
      : new MmftError('E_IO', `could not write checkpoint ${dir}: ${(cause as Error).message}`, { cause });
  }
}

/** Copy a finished checkpoint folder to `to` (checkpoint-best), atomically. */
export async function copyCheckpoint(from: string, to: string): Promise<void> {
  await writeFolder(to, (staged) => fs.cp(from, staged, { recursive: true }), { kind: CHECKPOINT_KIND });
}

/** Assign trainable weights and optimizer moments from a checkpoint folder. */
export async function restoreCheckpoint(dir: string, params: readonly ParamEntry[], optimizer: AdamW): Promise<void> {
  const weightsFile = path.join(dir, 'trainable.safetensors');
  const { tensors } = await readTensorFile(weightsFile);
  for (const p of params) {
    const t = tensors.get(p.name);
    if (!t || !tf.util.arraysEqual([...t.shape], p.variable.shape)) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${weightsFile}: no weight of shape [${p.variable.shape.join(', ')}] for trainable parameter "${p.name}"`,
        {
          hint: 'resume with the same model, peft, strategy and freeze settings as the run that wrote the checkpoint',
        },
      );
    }
    tf.tidy(() => p.variable.assign(tf.tensor(t.data, [...t.shape], p.variable.dtype)));
  }
  const optimizerFile = path.join(dir, 'optimizer.safetensors');
  const saved = await readTensorFile(optimizerFile);
  const steps = JSON.parse(saved.metadata.steps ?? '{}') as Record<string, number>;
  optimizer.load(
    { steps, tensors: new Map([...saved.tensors].map(([k, v]) => [k, { shape: [...v.shape], data: v.data as Float32Array }])) },
    optimizerFile,
  );
}
