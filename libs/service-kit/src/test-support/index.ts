// Test support for other packages' tests (`@campaigns/service-kit/testing`): source only, read
// by Jest and the spec type-check, never built into dist. The *.service.mjs files are service
// processes spawned by path. Helpers that need Jest's globals are in `./testing/jest`, so this
// index also loads outside Jest (the benchmarks use it).
export * from './captured-logs.js';
export * from './free-port.js';
export * from './service-process.js';
export * from './unique-events-env.js';
export * from './wait-for.js';
