export * from './define-plugin';
export * from './ensure-backend';
export * from './load-plugin';
export * from './model-types';
export * from './names';
export * from './plugin-registry';
export * from './register-providers';
export * from './validate-manifest';
