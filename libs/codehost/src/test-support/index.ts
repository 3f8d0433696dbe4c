// Test support for other packages' tests (`@campaigns/codehost/testing`): source only, read by
// Jest and the spec type-check, never built into dist.
export * from './sim-code-host.js';
