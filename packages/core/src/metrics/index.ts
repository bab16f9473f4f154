// Shared mechanisms around metrics: feeding typed inputs to metrics by the kind they consume.
export * from './feed';
