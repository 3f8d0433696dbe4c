export * from './code-host.js';
export * from './config.js';
export * from './errors.js';
export * from './repository-name.js';
export * from './secret.js';
