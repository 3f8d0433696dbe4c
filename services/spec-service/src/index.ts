// Side-effect-free re-exports for other packages: the status projection, the status it computes
// and the schema the live copy lives in (the CLI's `campaign audit`), and the running parts with
// the resolver they take (the CLI's tests against a real spec-service).
export * from './status/status-projection.js';
export * from './status/campaign-status.js';
export { SPEC_SERVICE_SCHEMA, specServiceComponents } from './spec-service.components.js';
export type { ResolvedWorkspaces, WorkspaceResolver } from './workspaces/workspace-resolver.js';
