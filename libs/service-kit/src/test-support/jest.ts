// Test support that defines Jest tests itself (`@campaigns/service-kit/testing/jest`): only
// for Jest, which provides `@jest/globals`.
export * from './describe-service-process.js';
