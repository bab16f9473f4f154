// Test kits for plugin authors (STYLE.md §11): plugins re-run these against their providers.
export * from './fake-plugins';
