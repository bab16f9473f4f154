export { buildProgram, runCli } from './program';
export { createCliContext, type CliContext, type CliContextOptions } from './context';
export { BUILTIN_PLUGINS } from './builtin-plugins';
