// Trust: model cards, provenance, data manifests, licence checks and personal-data detection.
// The subpath `@mmft/core/trust`; also re-exported from `@mmft/core`.
export * from './hash';
export * from './manifest';
export * from './pii';
export * from './licence';
export * from './provenance';
export * from './card';
