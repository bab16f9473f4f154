// `mmft embed`: placeholder the lead registered so commands/index.ts has one owner; H5 replaces this file.
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import type { CliContext } from '../context';

export function embedCommand(_ctx: CliContext): Command {
  return new Command('embed').description('(being built)').action(() => {
    throw new MmftError('E_INPUT', 'mmft embed is being built');
  });
}
