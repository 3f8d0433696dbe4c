// Test support for other packages' tests (`@campaigns/events/testing`): source only, read by
// Jest and the spec type-check, never built into dist. relay-process.ts and
// consumer-process.ts are process entry points, spawned by path, not exported.
export * from './child-process.js';
export * from './test-database.js';
export * from './test-events.js';
export * from './test-nats.js';
export * from './test-projection.js';
export * from './test-projection-database.js';
export * from './private-servers.js';
