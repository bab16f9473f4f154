#!/usr/bin/env node
// Entry of the `mmft` bin. reflect-metadata is imported once here (docs/conventions.md §4).
import 'reflect-metadata';
import { createCliContext } from './context';
import { runCli } from './program';

runCli(process.argv.slice(2), createCliContext()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
