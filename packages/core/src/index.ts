// @mmft/core: contracts, the plugin registry, recipes and errors. The nn module system is the
// subpath `@mmft/core/nn`, test kits are `@mmft/core/testing`.
export * from './contracts';
export * from './config';
export * from './errors';
export * from './recipe';
export * from './registry';
export * from './tokens';
export * from './io';
export * from './peft';
export * from './processor';
export * from './metrics';
export * from './trust';
export * from './handoff';
