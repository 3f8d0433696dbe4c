export * from './dashboard.definition.js';
export * from './api/query-params.js';
export * from './dashboard-settings.js';
