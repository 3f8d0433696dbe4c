export * from './verify-event-log.js';
