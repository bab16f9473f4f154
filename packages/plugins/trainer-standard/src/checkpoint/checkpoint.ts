// Checkpoint folders (<output>/checkpoint-last, checkpoint-best): the model as its architecture
// saves it (or the PEFT adapter), trainable.safetensors (every trainable weight, what resume
// restores), optimizer.safetensors (AdamW moments; per-parameter steps in the metadata) and
// trainer_state.json. Written into a temp folder and renamed into place, as HF Trainer's
// _save_checkpoint does with its staging folder, so a crash never leaves a half checkpoint.
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import type { AdamW, ParamEntry } from '../optim/adamw';
import { readTensorFile, writeTensorFile } from './tensor-io';
import { TRAINER_STATE_FILE, type TrainerState } from './trainer-state';

const tag = () => `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Replace `final` by the complete folder `staged` (old one removed only after the swap). */
async function swapIn(staged: string, final: string): Promise<void> {
  const old = path.join(path.dirname(final), `.${path.basename(final)}.old-${tag()}`);
  const hadOld = await fs.rename(final, old).then(() => true, () => false);
  await fs.rename(staged, final);
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

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
  const staged = path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-${tag()}`);
  await fs.mkdir(staged, { recursive: true });
  try {
    await parts.saveModel(staged);
    const weights = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const p of parts.params) weights.set(p.name, { shape: p.variable.shape, data: (await p.variable.data()) as Float32Array });
    await writeTensorFile(path.join(staged, 'trainable.safetensors'), weights, { format: 'mmft-trainable' });
    const optimizer = await parts.optimizer.state();
    await writeTensorFile(path.join(staged, 'optimizer.safetensors'), optimizer.tensors, { format: 'mmft-adamw', steps: JSON.stringify(optimizer.steps) });
    await fs.writeFile(path.join(staged, TRAINER_STATE_FILE), `${JSON.stringify(parts.state, null, 2)}\n`);
    await swapIn(staged, dir);
  } catch (cause) {
    await fs.rm(staged, { recursive: true, force: true });
    throw cause instanceof MmftError ? cause : new MmftError('E_IO', `could not write checkpoint ${dir}: ${(cause as Error).message}`, { cause });
  }
}

/** Copy a finished checkpoint folder to `to` (checkpoint-best), atomically. */
export async function copyCheckpoint(from: string, to: string): Promise<void> {
  const staged = path.join(path.dirname(to), `.${path.basename(to)}.tmp-${tag()}`);
  await fs.cp(from, staged, { recursive: true });
  await swapIn(staged, to);
}

/** Assign trainable weights and optimizer moments from a checkpoint folder. */
export async function restoreCheckpoint(dir: string, params: readonly ParamEntry[], optimizer: AdamW): Promise<void> {
  const weightsFile = path.join(dir, 'trainable.safetensors');
  const { tensors } = await readTensorFile(weightsFile);
  for (const p of params) {
    const t = tensors.get(p.name);
    if (!t || !tf.util.arraysEqual([...t.shape], p.variable.shape)) {
      throw new MmftError('E_CHECKPOINT', `${weightsFile}: no weight of shape [${p.variable.shape.join(', ')}] for trainable parameter "${p.name}"`, {
        hint: 'resume with the same model, peft, strategy and freeze settings as the run that wrote the checkpoint',
      });
    }
    tf.tidy(() => p.variable.assign(tf.tensor(t.data, [...t.shape], p.variable.dtype)));
  }
  const optimizerFile = path.join(dir, 'optimizer.safetensors');
  const saved = await readTensorFile(optimizerFile);
  const steps = JSON.parse(saved.metadata.steps ?? '{}') as Record<string, number>;
  optimizer.load({ steps, tensors: new Map([...saved.tensors].map(([k, v]) => [k, { shape: [...v.shape], data: v.data as Float32Array }])) }, optimizerFile);
}
