// The fused-kernel table of mmft (`@mmft/core/kernels`): every fused kernel's name with its
// inputs and attributes, and the helpers callers run them with. Backends import the same names.
export * from './kernel_names';
export { isRegistered, runFused, type FusedOutput } from './run-fused';
