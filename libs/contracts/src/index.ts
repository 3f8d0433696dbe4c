export * from './api.js';
export * from './sealed-reply.js';
