// ESLint flat config for the whole monorepo: `npm run lint`.
// Syntax-level rules only (no type information), so linting stays fast and needs no build;
// `npm run typecheck` is where the compiler's strictness is enforced.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The Node.js globals our plain-JavaScript scripts use; TypeScript files get theirs from @types/node.
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

/** Modules that decide and never do: kept free of I/O by `no-restricted-imports` below. */
export const PURE_MODULES = [
  'libs/campaign-spec/src/**/*.ts',
  'libs/contracts/src/**/*.ts',
  'services/reconciler-service/src/planner/**/*.ts',
  'services/reconciler-service/src/changeset/**/*.ts',
  'services/reconciler-service/src/bulk/bulk-job-decision.ts',
  'services/spec-service/src/desired-state/{decide,desired-state,plan-changesets,plan-executions,render-patch,parsed-specs}.ts',
  'services/spec-service/src/api/preview.ts',
  'services/spec-service/src/status/status-evolve.ts',
  'services/spec-service/src/status/changeset-match.ts',
  'services/spec-service/src/workspaces/listing-plan.ts',
  'services/dashboard/src/api/query-params.ts',
];

export default defineConfig(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '.nx/**', 'bench/out/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['{libs,services,apps,tools,bench}/**/*.ts'],
    rules: {
      // Parameters and destructured leftovers prefixed with `_` are deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
  {
    // The deciding modules are pure functions of their arguments: no database, broker, container
    // runtime or framework. What they need to know arrives as values; what they decide leaves
    // as values (planner: operations; desired state: events and rows; campaign-spec: a spec).
    files: PURE_MODULES,
    ignores: ['**/*.spec.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'pg',
                'pg-*',
                'nats',
                '@nats-io/*',
                '@nestjs/*',
                'typeorm',
                'dockerode',
                '@octokit/*',
                'child_process',
                'node:child_process',
              ],
              message:
                'a pure module (planner, desired state, contracts, campaign-spec) takes what it needs as arguments: no database, broker, container runtime, code host client or NestJS',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
);
