// A small world for webhook and GraphQL tests that need records but not git: an organization
// with a member, a repository, and helpers that create pull requests, reviews, statuses and
// checks the way the state's operations would, emitting the matching changes.
import type { CommitInfo } from '../../git/repo-store.js';
import type { ChangeInput, StateChange } from '../../state/events.js';
import type {
  CheckRun,
  CheckSuite,
  CommitStatus,
  PullRequest,
  Repository,
  Review,
} from '../../state/model.js';
import { SimState } from '../../state/sim-state.js';

export const BASE_SHA = 'a'.repeat(40);
export const HEAD_SHA = 'b'.repeat(40);
export const NEXT_SHA = 'c'.repeat(40);

export interface World {
  state: SimState;
  repository: Repository;
  changes: StateChange[];
  openPullRequest(input?: Partial<PullRequest> & { by?: string }): PullRequest;
  change(input: ChangeInput, sender?: string): StateChange;
  review(pull: PullRequest, state: Review['state'], by: string): Review;
  status(sha: string, state: CommitStatus['state'], context?: string): CommitStatus;
  checkSuite(sha: string, branch: string | null): CheckSuite;
  checkRun(
    suite: CheckSuite,
    name: string,
    status: CheckRun['status'],
    conclusion: CheckRun['conclusion'],
  ): CheckRun;
}

/** An organization "acme" (member "alice"), a user "bob", and the repository acme/widgets. */
export function createWorld(): World {
  const state = new SimState();
  state.createAccount({ login: 'alice', type: 'User', name: 'Alice', email: 'alice@example.com' });
  state.createAccount({ login: 'bob', type: 'User', name: 'Bob', email: 'bob@example.com' });
  state.createAccount({ login: 'acme', type: 'Organization', members: ['alice'] });
  const repository = state.createRepository({
    owner: 'acme',
    name: 'widgets',
    description: 'Widgets for everyone',
    language: 'TypeScript',
    branches: { main: BASE_SHA },
  });
  const changes: StateChange[] = [];
  state.on('change', (change) => changes.push(change));

  const change = (input: ChangeInput, sender = 'alice') => state.emit(input, repository, sender);

  const openPullRequest = (input: Partial<PullRequest> & { by?: string } = {}) => {
    const id = state.allocateId();
    const now = new Date().toISOString();
    const { by, ...fields } = input;
    const pull: PullRequest = {
      id,
      node_id: state.nodeId('PullRequest', id),
      repository_id: repository.id,
      number: repository.next_number++,
      state: 'open',
      locked: false,
      title: 'Add Hello World',
      body: 'My first campaign!',
      user: by ?? 'alice',
      draft: false,
      head: { ref: 'hello-world', sha: HEAD_SHA, repository_id: repository.id },
      base: { ref: 'main', sha: BASE_SHA, repository_id: repository.id },
      labels: [],
      merged: false,
      merged_at: null,
      merged_by: null,
      merge_commit_sha: null,
      mergeable: true,
      computed_for: `${BASE_SHA}:${HEAD_SHA}`,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      auto_merge: null,
      created_at: now,
      updated_at: now,
      closed_at: null,
      ...fields,
    };
    state.addPullRequest(pull);
    return pull;
  };

  const review = (pull: PullRequest, reviewState: Review['state'], by: string) => {
    const id = state.allocateId();
    const record: Review = {
      id,
      node_id: state.nodeId('PullRequestReview', id),
      repository_id: repository.id,
      pull_number: pull.number,
      user: by,
      body: reviewState === 'APPROVED' ? 'LGTM' : 'Please fix',
      state: reviewState,
      commit_id: pull.head.sha,
      submitted_at: new Date().toISOString(),
    };
    state.addReview(record);
    return record;
  };

  const status = (sha: string, statusState: CommitStatus['state'], context = 'ci/build') => {
    const id = state.allocateId();
    const now = new Date().toISOString();
    const record: CommitStatus = {
      id,
      node_id: state.nodeId('StatusContext', id),
      repository_id: repository.id,
      sha,
      state: statusState,
      context,
      description: `Build ${statusState}`,
      target_url: 'https://ci.example.com/builds/1',
      creator: 'alice',
      created_at: now,
      updated_at: now,
    };
    state.addStatus(record);
    return record;
  };

  const checkSuite = (sha: string, branch: string | null) => {
    const id = state.allocateId();
    const now = new Date().toISOString();
    const suite: CheckSuite = {
      id,
      node_id: state.nodeId('CheckSuite', id),
      repository_id: repository.id,
      head_sha: sha,
      head_branch: branch,
      app: 'github-actions',
      status: 'queued',
      conclusion: null,
      created_at: now,
      updated_at: now,
    };
    state.addCheckSuite(suite);
    return suite;
  };

  const checkRun = (
    suite: CheckSuite,
    name: string,
    runStatus: CheckRun['status'],
    conclusion: CheckRun['conclusion'],
  ) => {
    const id = state.allocateId();
    const now = new Date().toISOString();
    const run: CheckRun = {
      id,
      node_id: state.nodeId('CheckRun', id),
      repository_id: repository.id,
      check_suite_id: suite.id,
      head_sha: suite.head_sha,
      name,
      status: runStatus,
      conclusion,
      external_id: null,
      details_url: null,
      output: { title: null, summary: null, text: null },
      started_at: now,
      completed_at: runStatus === 'completed' ? now : null,
    };
    state.addCheckRun(run);
    return run;
  };

  return {
    state,
    repository,
    changes,
    openPullRequest,
    change,
    review,
    status,
    checkSuite,
    checkRun,
  };
}

/** A commit as git would describe it, for payloads that show the full commit. */
export function commitInfo(sha: string, message = 'Append Hello to .md files'): CommitInfo {
  const who = { name: 'Alice', email: 'alice@example.com', date: '2026-01-02T03:04:05Z' };
  return { sha, tree: 'd'.repeat(40), parents: [BASE_SHA], author: who, committer: who, message };
}
