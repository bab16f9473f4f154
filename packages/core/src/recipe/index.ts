export * from './json-schema';
export * from './merge';
export * from './overrides';
export * from './read-recipe';
export * from './sections';
export * from './source-map';
export * from './validate-recipe';
