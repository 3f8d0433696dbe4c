export * from './config/service-config.js';
export * from './connections/dependency-unavailable.error.js';
export * from './http/service-kit.module.js';
export * from './logging/service-logger.js';
export * from './readiness/readiness.js';
export * from './service/bootstrap-service.js';
export * from './service/service-definition.js';
export * from './service/start-service.js';
