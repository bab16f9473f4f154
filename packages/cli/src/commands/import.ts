// `mmft import`: placeholder the lead registered so commands/index.ts has one owner; H3 replaces this file.
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import type { CliContext } from '../context';

export function importCommand(_ctx: CliContext): Command {
  return new Command('import').description('(being built)').action(() => {
    throw new MmftError('E_INPUT', 'mmft import is being built');
  });
}
