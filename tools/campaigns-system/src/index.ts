export * from './sim-environment.js';
export * from './step-image.js';
