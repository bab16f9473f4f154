// `mmft worker`: placeholder the lead registered so commands/index.ts has one owner; H4 replaces this file.
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import type { CliContext } from '../context';

export function workerCommand(_ctx: CliContext): Command {
  return new Command('worker').description('(being built)').action(() => {
    throw new MmftError('E_INPUT', 'mmft worker is being built');
  });
}
