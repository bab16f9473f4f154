// @mmft/benchmarks: the `mmft bench` suite — experiments as recipe files with a bench: block,
// each run in its own child process, the PyTorch peer side by side, and the generated reports.
export { runBench, type BenchOptions } from './bench';
export { BENCH_KINDS, SUITES, benchConfigSchema, type BenchConfig, type BenchKind, type SuiteName } from './suite/bench-config';
export { EXPERIMENTS_DIR, loadExperiment, loadExperiments, type Experiment } from './suite/experiment';
export { BENCH_PLUGINS, benchRegistry, FIRST_PARTY_PLUGINS } from './suite/registry';
export { runSuite, type SuiteOptions } from './suite/run-suite';
export { quantile, summarize } from './suite/stats';
export { clipShapeOf, trainStepFlops, type ClipShape, type TowerMode } from './suite/flops';
export type { ExperimentResult, GemmCeiling, KernelRow, MachineInfo, SideResult, SuiteReport, Timing } from './suite/result';
export { compareRows } from './report/compare';
export { summaryRows } from './report/summary-table';
export { benchmarksMarkdown } from './report/benchmarks-md';
export { resultsMarkdown } from './report/results-md';
export { GENERATED_MARKER, writeDocs } from './report/write-docs';
export { TORCH_PEER_SCRIPT, peerSpec, runTorchPeer, torchAvailable } from './peer/torch-peer';
