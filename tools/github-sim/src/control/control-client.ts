// A typed client for the control API (POST /_control/{command}), for tests, benchmarks and demos.
import type { ControlCommands } from './control-commands.js';

type In<K extends keyof ControlCommands> = ControlCommands[K]['input'];
type Out<K extends keyof ControlCommands> = ControlCommands[K]['output'];

/** A refused control command, with the simulator's status and message. */
export class ControlError extends Error {
  constructor(
    readonly command: string,
    readonly status: number,
    message: string,
  ) {
    super(`control command ${command} failed (${status}): ${message}`);
    this.name = 'ControlError';
  }
}

export class ControlClient {
  /** @param baseUrl the simulator's root URL, e.g. http://127.0.0.1:3001 */
  constructor(readonly baseUrl: string) {}

  async call<K extends keyof ControlCommands>(command: K, input: In<K>): Promise<Out<K>> {
    const response = await fetch(`${this.baseUrl}/_control/${command}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as Out<K> & { message?: string };
    if (!response.ok)
      throw new ControlError(command, response.status, body.message ?? response.statusText);
    return body;
  }

  createUser = (input: In<'createUser'>) => this.call('createUser', input);
  createOrg = (input: In<'createOrg'>) => this.call('createOrg', input);
  addMember = (input: In<'addMember'>) => this.call('addMember', input);
  createToken = (input: In<'createToken'>) => this.call('createToken', input);
  setTokenLimits = (input: In<'setTokenLimits'>) => this.call('setTokenLimits', input);
  resetRateLimits = (input: In<'resetRateLimits'> = {}) => this.call('resetRateLimits', input);
  createRepo = (input: In<'createRepo'>) => this.call('createRepo', input);
  getRepo = (input: In<'getRepo'>) => this.call('getRepo', input);
  archiveRepo = (input: In<'archiveRepo'>) => this.call('archiveRepo', input);
  pushCommit = (input: In<'pushCommit'>) => this.call('pushCommit', input);
  createBranch = (input: In<'createBranch'>) => this.call('createBranch', input);
  deleteBranch = (input: In<'deleteBranch'>) => this.call('deleteBranch', input);
  openPullRequest = (input: In<'openPullRequest'>) => this.call('openPullRequest', input);
  getPullRequest = (input: In<'getPullRequest'>) => this.call('getPullRequest', input);
  updatePullRequest = (input: In<'updatePullRequest'>) => this.call('updatePullRequest', input);
  mergePullRequest = (input: In<'mergePullRequest'>) => this.call('mergePullRequest', input);
  closePullRequest = (input: In<'closePullRequest'>) => this.call('closePullRequest', input);
  reopenPullRequest = (input: In<'reopenPullRequest'>) => this.call('reopenPullRequest', input);
  markReadyForReview = (input: In<'markReadyForReview'>) => this.call('markReadyForReview', input);
  convertToDraft = (input: In<'convertToDraft'>) => this.call('convertToDraft', input);
  submitReview = (input: In<'submitReview'>) => this.call('submitReview', input);
  comment = (input: In<'comment'>) => this.call('comment', input);
  setLabels = (input: In<'setLabels'>) => this.call('setLabels', input);
  setStatus = (input: In<'setStatus'>) => this.call('setStatus', input);
  createCheckRun = (input: In<'createCheckRun'>) => this.call('createCheckRun', input);
  updateCheckRun = (input: In<'updateCheckRun'>) => this.call('updateCheckRun', input);
  createHook = (input: In<'createHook'>) => this.call('createHook', input);
  configureFaults = (input: In<'configureFaults'>) => this.call('configureFaults', input);
  getFaults = () => this.call('getFaults', {});
  requests = (input: In<'requests'> = {}) => this.call('requests', input);
  clearRequests = () => this.call('clearRequests', {});
  seedRepos = (input: In<'seedRepos'>) => this.call('seedRepos', input);
}
