export * from './executor/commit-builder.js';
export * from './executor/reconciler-worker.js';
export * from './planner/index.js';
export * from './projection/changeset-projection.js';
export * from './reconciler-service.definition.js';
export * from './syncer/changeset-syncer.js';
