// One Jest run over every package. ESM throughout (NestJS 12 is ESM-only); swc strips types and
// emits legacy decorators with metadata, which NestJS's dependency injection needs.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

// Fixture processes run TypeScript through tsx, which otherwise finds no tsconfig for them and
// compiles TypeORM's entity decorators as TC39 ones. Jest's workers and their children inherit it.
process.env.TSX_TSCONFIG_PATH ??= new URL('./tsconfig.tsx.json', import.meta.url).pathname;

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/apps', '<rootDir>/tools'],
  testMatch: ['**/src/**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@campaigns/service-kit/testing/jest$': '<rootDir>/libs/service-kit/src/test-support/jest.ts',
    '^@campaigns/(events|service-kit|codehost)/testing$':
      '<rootDir>/libs/$1/src/test-support/index.ts',
    '^@campaigns/(events|contracts|service-kit|campaign-spec|codehost|process-pool)$':
      '<rootDir>/libs/$1/src/index.ts',
    '^@campaigns/audit$': '<rootDir>/libs/audit/src/index.ts',
    '^@campaigns/audit/timeline$': '<rootDir>/libs/audit/src/timeline.ts',
    '^@campaigns/github-sim$': '<rootDir>/tools/github-sim/src/index.ts',
    '^@campaigns/system/testing$': '<rootDir>/tools/campaigns-system/src/test-support/system.ts',
    '^@campaigns/system$': '<rootDir>/tools/campaigns-system/src/index.ts',
    '^@campaigns/(spec-service|reconciler-service|webhook-gateway)/testing$':
      '<rootDir>/services/$1/src/test-support/index.ts',
    '^@campaigns/(spec-service|reconciler-service|webhook-gateway)$':
      '<rootDir>/services/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
  // One closed NATS for the run (deploy/nats/nats.conf, random passwords, a free port): the
  // workers find it as TEST_NATS_URL (the services' user) and TEST_NATS_CLI_URL (the CLI's).
  // Set TEST_NATS_URL yourself to use a broker of yours instead (README.md, "Tests").
  globalSetup: '<rootDir>/tools/jest-nats-setup.js',
  globalTeardown: '<rootDir>/tools/jest-nats-teardown.js',
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
};
