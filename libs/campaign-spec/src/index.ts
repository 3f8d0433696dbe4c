export {};
export * from './template/index.js';
