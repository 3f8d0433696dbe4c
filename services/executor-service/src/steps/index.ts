export {
  fetchRepository,
  mirrorDirectory,
  type FetchedRepository,
  type FetchRepositoryOptions,
} from './fetch-repository.js';
export { GitError, gitTokenEnv } from './git.js';
export * from './run-steps.js';
