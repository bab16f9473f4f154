// @mmft/arch-blip2/testing: tiny BLIP-2 checkpoints in both input layouts and a plain-JS reference
// of the vision model and the Q-Former, for tests of this and other packages.
export * from './tiny-checkpoint';
export * from './reference-blip2';
