// Test support for other packages' tests (`@campaigns/service-kit/testing`): source only, read
// by Jest and the spec type-check, never built into dist. The *.service.mjs files are service
// processes spawned by path.
export * from './captured-logs.js';
export * from './describe-service-process.js';
export * from './free-port.js';
export * from './service-process.js';
export * from './unique-events-env.js';
export * from './wait-for.js';
