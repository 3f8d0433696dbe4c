export {
  checkoutWorkspace,
  ensureCommit,
  fetchRepository,
  storeDirectory,
  type EnsureCommitOptions,
  type FetchedRepository,
  type FetchRepositoryOptions,
  type StoreSource,
  type StoredCommit,
} from './fetch-repository.js';
export { STORE_LOCK_STALE_MS } from './store-lock.js';
export { GitError, gitTokenEnv } from './git.js';
export type { NodeStage } from './node-workspace.js';
export {
  APPLICATION_LABEL,
  removeDeadExecutorsContainers,
  removeDeadProcessesDirs,
  STEP_LABEL,
  WARM_HOST_LABEL,
  WARM_PID_LABEL,
} from './host-leftovers.js';
export { StepContainers } from './step-containers.js';
export {
  inScope,
  KEPT_PARENT_FILES,
  workspaceScope,
  type WorkspaceScope,
} from './workspace-scope.js';
export * from './run-steps.js';
