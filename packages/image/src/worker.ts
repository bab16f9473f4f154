// The piscina worker: preprocesses one image off the main thread. Failures come back as data,
// not as a thrown error, because structured cloning drops an MmftError's code and hint.
// A worker is an entry point: @mmft/core loads tsyringe, which needs the reflect polyfill first.
import 'reflect-metadata';
import { move } from 'piscina';
import type { MmftErrorCode } from '@mmft/core';
import { isMmftError } from '@mmft/core';
import type { ImageInput } from './decode';
import type { PreprocessOptions } from './options';
import { preprocessResolved } from './preprocess';

export interface WorkerTask {
  readonly input: ImageInput;
  readonly options: PreprocessOptions;
  readonly seed: number;
}

export interface WorkerFailure {
  readonly error: { readonly code: MmftErrorCode; readonly message: string; readonly hint?: string };
}

/** Returns the CHW pixels (transferred, not copied) or a failure record. */
export default async function run(task: WorkerTask): Promise<Float32Array | WorkerFailure> {
  try {
    const { data } = await preprocessResolved(task.input, task.options, task.seed);
    return move(data) as Float32Array;
  } catch (error) {
    if (isMmftError(error)) return { error: { code: error.code, message: error.message, hint: error.hint } };
    return { error: { code: 'E_INPUT', message: error instanceof Error ? error.message : String(error) } };
  }
}
