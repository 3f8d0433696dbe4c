export * from './changeset.js';
export * from './operation.js';
export * from './plan.js';
export * from './merge.js';
