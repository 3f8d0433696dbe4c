export * from './burndown.js';
export * from './burndown-log.js';
export * from './event-log.js';
export * from './line-diff.js';
export * from './timeline.js';
