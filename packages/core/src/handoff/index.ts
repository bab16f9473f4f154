// Handoff machinery shared by the targets of `mmft handoff` (docs/scaling-out.md).
export * from './launch';
export * from './plan';
export * from './data';
export * from './bundle';
export * from './script';
