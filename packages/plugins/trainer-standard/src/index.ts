// @mmft/trainer-standard: the standard training loop (AdamW, schedules, accumulation, clipping,
// checkpoints, resume, reports) around the recipe's objective, and a TTY progress reporter the
// CLI can use.
import { definePlugin } from '@mmft/core';
import { standardTrainer } from './plugin';

export * from './config';
export { standardTrainer } from './plugin';
export { runTraining } from './loop/run-training';
export { AdamW, type AdamWOptions, type AdamWState, type ParamEntry } from './optim/adamw';
export { paramEntries, excludedFromDecay } from './optim/param-groups';
export { lrMultiplier, type ScheduleKind } from './optim/schedule';
export { clipGradNorm } from './optim/clip-grad';
export { readTrainerState, TRAINER_STATE_FILE, type TrainerState, type LogEntry } from './checkpoint/trainer-state';
export { TtyReporter } from './log/tty-reporter';
export { writeReport, lineChart } from './log/report-html';

const pkg = require('../package.json') as { name: string; version: string };
const provides = [standardTrainer];

/** The plugin object recipes load as "@mmft/trainer-standard". */
const plugin = definePlugin({ name: pkg.name, version: pkg.version, description: 'the standard mmft trainer', provides });
export default plugin;
