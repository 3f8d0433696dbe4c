export * from './workspace-resolver.js';
export * from './repository-index.js';
export * from './repository-index-settings.js';
export * from './listing-plan.js';
export * from './repository-index.migrations.js';
export * from './query-evaluator.js';
export * from './branch-head.js';
export * from './create-workspace-resolver.js';
