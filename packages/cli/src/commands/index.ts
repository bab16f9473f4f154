// Every top-level command, in the order `mmft --help` lists them.
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { benchCommand } from './bench';
import { cardCommand } from './card';
import { dataCommand } from './data';
import { envCommand } from './env';
import { embedCommand } from './embed';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { generateCommand } from './generate';
import { handoffCommand } from './handoff';
import { importCommand } from './import';
import { mergeCommand } from './merge';
import { pluginsCommand } from './plugins';
import { probeCommand } from './probe';
import { quantizeCommand } from './quantize';
import { schemaCommand } from './schema';
import { serveCommand } from './serve';
import { trainCommand } from './train';
import { workerCommand } from './worker';

export const COMMANDS: ReadonlyArray<(ctx: CliContext) => Command> = [
  trainCommand,
  evalCommand,
  generateCommand,
  embedCommand,
  serveCommand,
  probeCommand,
  benchCommand,
  mergeCommand,
  exportCommand,
  handoffCommand,
  importCommand,
  workerCommand,
  quantizeCommand,
  cardCommand,
  dataCommand,
  envCommand,
  pluginsCommand,
  schemaCommand,
];
