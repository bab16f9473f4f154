// The `tensorboard` reporter: one event file per run (a resumed run starts its own), written
// through core's EventFileWriter (packages/core/src/tracking/event-file.ts).
import * as path from 'node:path';
import type { ReporterProvider, RunTracker } from '@mmft/core';
import { EventFileWriter } from '@mmft/core/tracking';
import { tensorboardConfigSchema, type TensorboardConfig } from './config';

/** Where the event files of a run go. */
export function tensorboardDir(outputDir: string): string {
  return path.join(outputDir, 'tensorboard');
}

/**
 * @example
 * const t = await tensorboardReporter.open({}, { outputDir: 'runs/a', runName: 'a' });
 */
export const tensorboardReporter: ReporterProvider<TensorboardConfig> = {
  kind: 'reporter',
  id: 'tensorboard',
  description: 'TensorBoard event files (scalars, text, images) in <output_dir>/tensorboard',
  configSchema: tensorboardConfigSchema,
  async open(_config, run): Promise<RunTracker> {
    const writer = EventFileWriter.open(tensorboardDir(run.outputDir));
    return {
      scalars: (step, values) => writer.scalars(step, values),
      text: (step, tag, markdown) => writer.text(step, tag, markdown),
      image: (step, tag, png, size) => writer.image(step, tag, png, size),
      close: async () => writer.close(),
    };
  },
};
