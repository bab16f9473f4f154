// @mmft/arch-opt/testing: a tiny OPT checkpoint writer and an independent plain-JS OPT forward, for
// tests of this and other packages (bridges build their language model from it) and for scripts.
export * from './tiny-checkpoint';
export * from './reference-opt';
