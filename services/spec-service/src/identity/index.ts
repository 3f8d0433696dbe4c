export * from './access-tokens.js';
export * from './identity-store.js';
export { identityMigrations } from './identity.migrations.js';
