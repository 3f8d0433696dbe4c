// Side-effect-free re-exports for other packages (the CLI's `campaign audit`): the tracked pull
// requests projection and the schema the live copy lives in.
export * from './tracked-pull-requests.projection.js';
export { WEBHOOK_GATEWAY_SCHEMA } from './webhook-recorder.js';
