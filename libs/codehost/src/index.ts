export * from './code-host.js';
export * from './code-hosts.js';
export * from './config.js';
export * from './errors.js';
export * from './repository-name.js';
export * from './secret.js';
export * from './github/github-code-host.js';
export * from './github/github-errors.js';
export { buildLoadChangesetsQuery } from './github/load-changesets.js';
