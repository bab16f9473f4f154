// First-party plugin packages the CLI always loads (it depends on them). Anything else is loaded
// only when a recipe or `--plugin` names it: mmft never scans node_modules. One list, shared with
// the benchmarks' registry (packages/benchmarks/src/suite/registry.ts).
export { FIRST_PARTY_PLUGINS as BUILTIN_PLUGINS } from '@mmft/benchmarks';
