// `mmft handoff`: placeholder the lead registered so commands/index.ts has one owner; H1 replaces this file.
import { Command } from 'commander';
import { MmftError } from '@mmft/core';
import type { CliContext } from '../context';

export function handoffCommand(_ctx: CliContext): Command {
  return new Command('handoff').description('(being built)').action(() => {
    throw new MmftError('E_INPUT', 'mmft handoff is being built');
  });
}
