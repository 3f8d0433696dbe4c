// Test support for other packages' tests (`@campaigns/spec-service/testing`): source only, read
// by Jest and the spec type-check, never built into dist.
export * from './fixed-resolver.js';
export * from './spec-service-database.js';
export * from './start-spec-service.js';
export * from './access-token.js';
export * from './hello-world-spec.js';
