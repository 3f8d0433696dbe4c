export * from './process-pool.js';
