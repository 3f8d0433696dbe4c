export {
  fetchRepository,
  mirrorDirectory,
  MIRROR_LOCK_STALE_MS,
  type FetchedRepository,
  type FetchRepositoryOptions,
} from './fetch-repository.js';
export { GitError, gitTokenEnv } from './git.js';
export * from './run-steps.js';
