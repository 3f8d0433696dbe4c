// Side-effect-free re-exports for other packages: the status projection, the status it computes
// and the schema the live copy lives in (the CLI's `campaign audit`), and the service's
// definition with the resolver it takes (the CLI's tests against a real spec-service).
export * from './status/status-projection.js';
export * from './status/campaign-status.js';
export * from './status/changeset-state.js';
export { createSpecService, specApiSubject } from './spec-service.definition.js';
export { SPEC_SERVICE_SCHEMA } from './spec-service.module.js';
export * from './identity/index.js';
export type { ResolvedWorkspaces, WorkspaceResolver } from './workspaces/workspace-resolver.js';
