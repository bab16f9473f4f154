// A pool of preprocessing workers (piscina over worker_threads). Workers need compiled JS: from
// dist/ the worker is the sibling worker.js; from TS sources (jest) it is ../dist/worker.js, so
// the package must be built first (`npx tsc -b`), which the error says.
import * as fs from 'node:fs';
import * as path from 'node:path';
// sharp must be loaded by the main thread before workers load it (sharp docs, "Worker threads"),
// so its shared libraries outlive the workers.
import 'sharp';
import { Piscina } from 'piscina';
import { MmftError } from '@mmft/core';
import type { WorkerFailure, WorkerTask } from './worker';

/** Path of the compiled worker entry, or a clear error when the package has not been built. */
export function workerFile(): string {
  const candidates = [path.join(__dirname, 'worker.js'), path.join(__dirname, '..', 'dist', 'worker.js')];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) {
    throw new MmftError('E_IO', `the image worker is not built: none of ${candidates.join(', ')} exists`, {
      hint: 'build @mmft/image first: cd packages/image && npx tsc -b',
    });
  }
  return found;
}

/**
 * A fixed-size pool of image workers.
 *
 * @example
 * const pool = new ImageWorkerPool(4);
 * const chw = await pool.run({ input: 'a.png', options: preprocessOptionsSchema.parse({}), seed: 0 });
 * await pool.close();
 */
export class ImageWorkerPool {
  private readonly piscina: Piscina;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1) {
      throw new MmftError('E_CONFIG', `image workers must be a positive integer, got ${threads}`, {
        hint: 'use workers: 0 to preprocess on the main thread',
      });
    }
    // two tasks per worker: sharp decodes off the JS thread, so one task's libvips work overlaps
    // another's normalise loop
    this.piscina = new Piscina({
      filename: workerFile(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 2,
    });
  }

  async run(task: WorkerTask): Promise<Float32Array> {
    const result = (await this.piscina.run(task)) as Float32Array | WorkerFailure;
    // not `instanceof`: under jest the array comes from another realm
    if (ArrayBuffer.isView(result)) return result as Float32Array;
    throw new MmftError(result.error.code, result.error.message, { hint: result.error.hint });
  }

  /** Let running tasks finish, then stop the threads (destroying mid-task makes piscina emit errors). */
  async close(): Promise<void> {
    await this.piscina.close();
  }
}
