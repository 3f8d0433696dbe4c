// Side-effect-free re-exports for other packages (the CLI's `campaign audit`): the status
// projection, the status it computes and the schema the live copy lives in.
export * from './status/status-projection.js';
export * from './status/campaign-status.js';
export { SPEC_SERVICE_SCHEMA } from './spec-service.components.js';
