// @mmft/arch-blip2/testing: tiny BLIP-2 checkpoints (both input layouts, and the retrieval model with
// or without its stage-1 extras) and plain-JS references of the vision model, the Q-Former and the
// retrieval heads, for tests of this and other packages.
export * from './tiny-checkpoint';
export * from './tiny-retrieval-checkpoint';
export * from './reference-blip2';
export * from './reference-retrieval';
