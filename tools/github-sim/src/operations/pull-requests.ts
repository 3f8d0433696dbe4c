// Pull request operations with GitHub's rules: one open pull request per head and base, real git
// merges (merge commit, squash, rebase) in the bare repository, synchronize on pushes, closing
// when the head branch goes, "merged" when the head lands on the base by a push.
import type { CommitInfo } from '../git/repo-store.js';
import { ZERO_SHA, type PullRequestChanged } from '../state/events.js';
import type {
  IssueComment,
  MergeMethod,
  PullRequest,
  Repository,
  Review,
  ReviewState,
} from '../state/model.js';
import { StateError, type SimState } from '../state/sim-state.js';
import { identityOf, type RefUpdate, type RepositoryOperations } from './repositories.js';

export type ReviewEvent = 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT';

const REVIEW_STATES: Record<ReviewEvent, ReviewState> = {
  APPROVE: 'APPROVED',
  REQUEST_CHANGES: 'CHANGES_REQUESTED',
  COMMENT: 'COMMENTED',
};

export class PullRequestOperations {
  /**
   * Compute mergeability and diff statistics of a new pull request (4 git processes) before
   * answering. Off by default: they are computed on the first read instead, as GitHub computes
   * mergeability in the background and answers `mergeable: null` first; creating stays cheap.
   */
  eagerStats = false;

  constructor(
    private readonly state: SimState,
    private readonly repositories: RepositoryOperations,
  ) {
    repositories.onBranchesMoved = (repository, updates, actor) =>
      this.branchesMoved(repository, updates, actor);
  }

  private get store() {
    return this.repositories.store;
  }

  require(repository: Repository, number: number): PullRequest {
    const pull = this.state.getPullRequest(repository, number);
    if (!pull) throw new StateError(404, 'Not Found');
    return pull;
  }

  private emit(
    repository: Repository,
    pull: PullRequest,
    action: PullRequestChanged['action'],
    actor: string,
    extra: Partial<Pick<PullRequestChanged, 'changes' | 'label' | 'before' | 'after'>> = {},
  ) {
    this.state.emit(
      { type: 'pull_request', action, pullRequest: pull, ...extra },
      repository,
      actor,
    );
  }

  private touch(pull: PullRequest) {
    pull.updated_at = new Date().toISOString();
    this.state.touch();
  }

  async create(
    repository: Repository,
    input: {
      actor: string;
      title: string;
      head: string;
      base: string;
      body?: string | null;
      draft?: boolean;
      maintainer_can_modify?: boolean;
    },
  ): Promise<PullRequest> {
    this.repositories.assertWritable(repository);
    const head = this.headOf(repository, input.head);
    const baseSha = repository.branches[input.base];
    if (baseSha === undefined) {
      throw new StateError(422, `base: Base does not exist`, 'invalid:base');
    }
    const headBranch = head?.branch;
    const headSha = head === null ? undefined : head.repository.branches[head.branch];
    if (head === null || headBranch === undefined || headSha === undefined) {
      throw new StateError(422, 'head: Head does not exist', 'invalid:head');
    }
    const headRepository = head.repository;
    const duplicate = this.state
      .listPullRequests(repository)
      .find(
        (p) =>
          p.state === 'open' &&
          p.head.ref === headBranch &&
          p.head.repository_id === headRepository.id &&
          p.base.ref === input.base,
      );
    if (duplicate) {
      throw new StateError(
        422,
        `A pull request already exists for ${headRepository.owner}:${headBranch}.`,
        'custom',
      );
    }
    const path = this.repositories.pathOf(repository);
    // One cat-file process answers the commit count and the diff statistics together when the
    // head is straight ahead of the base; otherwise counting takes git as before.
    const analysis =
      headSha === baseSha ? undefined : await this.store.analysePull(path, baseSha, headSha);
    const commits =
      headSha === baseSha
        ? 0
        : (analysis?.stats.commits ?? (await this.store.countCommits(path, baseSha, headSha)));
    if (commits === 0) {
      throw new StateError(422, `No commits between ${input.base} and ${headBranch}`, 'custom');
    }
    const id = this.state.allocateId();
    const now = new Date().toISOString();
    const pull: PullRequest = {
      id,
      node_id: this.state.nodeId('PullRequest', id),
      repository_id: repository.id,
      number: repository.next_number++,
      state: 'open',
      locked: false,
      title: input.title,
      body: input.body ?? null,
      user: input.actor,
      draft: input.draft ?? false,
      head: { ref: headBranch, sha: headSha, repository_id: headRepository.id },
      base: { ref: input.base, sha: baseSha, repository_id: repository.id },
      labels: [],
      merged: false,
      merged_at: null,
      merged_by: null,
      merge_commit_sha: null,
      // GitHub answers a new pull request with mergeable null and computes it afterwards.
      mergeable: null,
      computed_for: null,
      fast_forward_for: analysis === undefined ? null : `${baseSha}..${headSha}`,
      commits,
      additions: analysis?.stats.additions ?? 0,
      deletions: analysis?.stats.deletions ?? 0,
      changed_files: analysis?.stats.changed_files ?? 0,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: input.maintainer_can_modify ?? false,
      auto_merge: null,
      created_at: now,
      updated_at: now,
      closed_at: null,
    };
    this.state.addPullRequest(pull);
    if (this.eagerStats) await this.ensureComputed(repository, pull);
    this.emit(repository, pull, 'opened', input.actor);
    return pull;
  }

  /**
   * The repository and branch `head` names: `branch` in the base repository, or `owner:branch`
   * in `owner`'s repository of the base's fork network (the base itself, or a fork); null when
   * `owner` has none.
   */
  headOf(repository: Repository, head: string): { repository: Repository; branch: string } | null {
    const colon = head.indexOf(':');
    if (colon < 0) return { repository, branch: head };
    const owner = head.slice(0, colon).toLowerCase();
    const branch = head.slice(colon + 1);
    if (owner === repository.owner.toLowerCase()) return { repository, branch };
    const fork = this.state
      .networkOf(repository)
      .find((r) => r.fork && r.owner.toLowerCase() === owner);
    return fork === undefined ? null : { repository: fork, branch };
  }

  /** The repository a pull request's head branch lives in (a fork, or its own repository). */
  headRepositoryOf(repository: Repository, pull: PullRequest): Repository {
    return this.state.getRepositoryById(pull.head.repository_id) ?? repository;
  }

  /** Computes mergeability and diff statistics when head or base moved since the last time. */
  async ensureComputed(repository: Repository, pull: PullRequest): Promise<void> {
    if (pull.state !== 'open') return;
    const baseSha = repository.branches[pull.base.ref] ?? pull.base.sha;
    const key = `${baseSha}..${pull.head.sha}`;
    if (pull.computed_for === key) return;
    if (pull.fast_forward_for === key) {
      // Creating it found the head straight ahead of this base and counted its statistics.
      pull.base.sha = baseSha;
      pull.mergeable = true;
      pull.computed_for = key;
      this.state.touch();
      return;
    }
    const path = this.repositories.pathOf(repository);
    const analysis = await this.store.analysePull(path, baseSha, pull.head.sha);
    const [mergeable, stats] =
      analysis !== undefined
        ? [analysis.mergeable, analysis.stats]
        : await Promise.all([
            this.store.mergeTrees(path, baseSha, pull.head.sha).then((tree) => tree !== null),
            this.store.diffStats(path, baseSha, pull.head.sha),
          ]);
    if (pull.state !== 'open') return;
    pull.base.sha = baseSha;
    pull.mergeable = mergeable;
    Object.assign(pull, stats);
    pull.computed_for = key;
    this.state.touch();
  }

  async update(
    repository: Repository,
    pull: PullRequest,
    input: {
      actor: string;
      title?: string;
      body?: string | null;
      base?: string;
      state?: 'open' | 'closed';
      maintainer_can_modify?: boolean;
    },
  ): Promise<PullRequest> {
    this.repositories.assertWritable(repository);
    const changes: NonNullable<PullRequestChanged['changes']> = {};
    if (input.base !== undefined && input.base !== pull.base.ref) {
      const baseSha = repository.branches[input.base];
      if (baseSha === undefined)
        throw new StateError(
          422,
          `Proposed base branch '${input.base}' was not found`,
          'invalid:base',
        );
      if (pull.state !== 'open')
        throw new StateError(
          422,
          'Cannot change the base branch of a closed pull request.',
          'invalid:base',
        );
      changes.base = { ref: { from: pull.base.ref }, sha: { from: pull.base.sha } };
      pull.base = { ref: input.base, sha: baseSha, repository_id: repository.id };
      pull.computed_for = null;
      pull.mergeable = null;
    }
    if (input.title !== undefined && input.title !== pull.title) {
      changes.title = { from: pull.title };
      pull.title = input.title;
    }
    if (input.body !== undefined && input.body !== pull.body) {
      changes.body = { from: pull.body };
      pull.body = input.body;
    }
    if (input.maintainer_can_modify !== undefined)
      pull.maintainer_can_modify = input.maintainer_can_modify;
    if (Object.keys(changes).length > 0) {
      this.touch(pull);
      if (changes.base) await this.ensureComputed(repository, pull);
      this.emit(repository, pull, 'edited', input.actor, { changes });
    }
    if (input.state === 'closed' && pull.state === 'open')
      this.close(repository, pull, input.actor);
    if (input.state === 'open' && pull.state === 'closed')
      await this.reopen(repository, pull, input.actor);
    return pull;
  }

  close(repository: Repository, pull: PullRequest, actor: string): void {
    if (pull.state === 'closed') return;
    pull.state = 'closed';
    pull.closed_at = new Date().toISOString();
    pull.auto_merge = null;
    this.touch(pull);
    this.emit(repository, pull, 'closed', actor);
  }

  async reopen(repository: Repository, pull: PullRequest, actor: string): Promise<void> {
    if (pull.state === 'open') return;
    if (pull.merged) throw new StateError(422, 'Cannot reopen a merged pull request', 'custom');
    const headSha = this.headRepositoryOf(repository, pull).branches[pull.head.ref];
    if (headSha === undefined) {
      throw new StateError(422, 'state cannot be changed. The head branch was deleted.', 'custom');
    }
    const duplicate = this.state
      .listPullRequests(repository)
      .find(
        (p) =>
          p !== pull &&
          p.state === 'open' &&
          p.head.ref === pull.head.ref &&
          p.head.repository_id === pull.head.repository_id &&
          p.base.ref === pull.base.ref,
      );
    if (duplicate) {
      throw new StateError(
        422,
        `state cannot be changed. There is already an open pull request from ${pull.head.ref} to ${pull.base.ref}.`,
        'custom',
      );
    }
    pull.state = 'open';
    pull.closed_at = null;
    const moved = headSha !== pull.head.sha;
    const before = pull.head.sha;
    pull.head.sha = headSha;
    pull.computed_for = null;
    this.touch(pull);
    await this.ensureComputed(repository, pull);
    this.emit(repository, pull, 'reopened', actor);
    if (moved) this.emit(repository, pull, 'synchronize', actor, { before, after: headSha });
  }

  setDraft(repository: Repository, pull: PullRequest, draft: boolean, actor: string): void {
    if (pull.state !== 'open') throw new StateError(422, 'Pull request is closed', 'custom');
    if (pull.draft === draft) return;
    pull.draft = draft;
    this.touch(pull);
    this.emit(repository, pull, draft ? 'converted_to_draft' : 'ready_for_review', actor);
  }

  /**
   * Merges with GitHub's answers: 405 when not mergeable (draft, closed, conflicts), 409 when
   * `sha` is not the head any more. Moves the base branch, then reports push and closed.
   */
  async merge(
    repository: Repository,
    pull: PullRequest,
    input: {
      actor: string;
      method?: MergeMethod;
      sha?: string;
      commit_title?: string;
      commit_message?: string;
    },
  ): Promise<{ sha: string }> {
    this.repositories.assertWritable(repository);
    if (pull.merged || pull.state !== 'open')
      throw new StateError(405, 'Pull Request is not mergeable');
    if (pull.draft) throw new StateError(405, 'Pull Request is still a draft');
    if (input.sha !== undefined && input.sha !== pull.head.sha) {
      throw new StateError(409, 'Head branch was modified. Review and try the merge again.');
    }
    const method = input.method ?? 'merge';
    const path = this.repositories.pathOf(repository);
    const actor = this.state.requireAccount(input.actor);
    const identity = identityOf(actor);
    const result = await this.store.withLock(path, async () => {
      const baseSha = repository.branches[pull.base.ref];
      if (baseSha === undefined) throw new StateError(405, 'Base branch was deleted');
      const headSha = pull.head.sha;
      const tree = await this.store.mergeTrees(path, baseSha, headSha);
      if (tree === null) {
        pull.mergeable = false;
        throw new StateError(405, 'Pull Request is not mergeable');
      }
      let sha: string;
      if (method === 'merge') {
        const title =
          input.commit_title ??
          `Merge pull request #${pull.number} from ${this.headRepositoryOf(repository, pull).owner}/${pull.head.ref}`;
        const message = `${title}\n\n${input.commit_message ?? pull.title}`;
        sha = await this.store.commitTree(path, tree, [baseSha, headSha], message, identity);
      } else if (method === 'squash') {
        const commits = await this.store.listCommits(path, headSha, [baseSha]);
        const title = input.commit_title ?? `${pull.title} (#${pull.number})`;
        const body = input.commit_message ?? commits.map((c) => `* ${c.message}`).join('\n\n');
        sha = await this.store.commitTree(path, tree, [baseSha], `${title}\n\n${body}`, identity);
      } else {
        sha = await this.rebase(path, baseSha, headSha, identity);
      }
      await this.store.updateRef(path, `refs/heads/${pull.base.ref}`, sha, baseSha);
      return { sha, before: baseSha };
    });
    const now = new Date().toISOString();
    pull.merged = true;
    pull.merged_at = now;
    pull.merged_by = actor.login;
    pull.merge_commit_sha = result.sha;
    pull.state = 'closed';
    pull.closed_at = now;
    pull.mergeable = null;
    pull.auto_merge = null;
    this.touch(pull);
    await this.repositories.branchesMoved(
      repository,
      [{ branch: pull.base.ref, before: result.before, after: result.sha }],
      actor.login,
    );
    this.emit(repository, pull, 'closed', actor.login);
    return { sha: result.sha };
  }

  /**
   * Replays each commit of base..head onto base, like "Rebase and merge": a cherry-pick is a
   * three-way merge whose base is the commit's parent, which `merge-tree` computes when both
   * sides are given that parent as their only parent.
   */
  private async rebase(
    path: string,
    baseSha: string,
    headSha: string,
    committer: { name: string; email: string },
  ): Promise<string> {
    const commits: CommitInfo[] = await this.store.listCommits(path, headSha, [baseSha]);
    let tip = baseSha;
    for (const commit of commits) {
      const parent = commit.parents[0];
      let tree: string | null;
      if (parent === undefined) {
        tree = commit.tree;
      } else {
        const tipTree = (await this.store.treeOf(path, tip))!;
        const ours = await this.store.commitTree(path, tipTree, [parent], 'ours', committer);
        const theirs = await this.store.commitTree(
          path,
          commit.tree,
          [parent],
          'theirs',
          committer,
        );
        tree = await this.store.mergeTrees(path, ours, theirs);
      }
      if (tree === null) throw new StateError(405, 'This branch can’t be rebased');
      tip = await this.store.commitTree(
        path,
        tree,
        [tip],
        commit.message,
        commit.author,
        committer,
      );
    }
    return tip;
  }

  async setLabels(
    repository: Repository,
    pull: PullRequest,
    input: { actor: string; add?: string[]; remove?: string[]; replace?: string[] },
  ): Promise<void> {
    const before = new Set(pull.labels.map((l) => l.toLowerCase()));
    let next = [...pull.labels];
    if (input.replace !== undefined) next = [...input.replace];
    for (const name of input.add ?? [])
      if (!next.some((l) => l.toLowerCase() === name.toLowerCase())) next.push(name);
    if (input.remove) {
      const removing = new Set(input.remove.map((l) => l.toLowerCase()));
      next = next.filter((l) => !removing.has(l.toLowerCase()));
    }
    next = next.map((name) => this.state.ensureLabel(repository, name).name);
    const after = new Set(next.map((l) => l.toLowerCase()));
    const removed = pull.labels.filter((l) => !after.has(l.toLowerCase()));
    const added = next.filter((l) => !before.has(l.toLowerCase()));
    pull.labels = next;
    if (added.length === 0 && removed.length === 0) return;
    this.touch(pull);
    for (const name of removed) {
      this.emit(repository, pull, 'unlabeled', input.actor, {
        label: this.state.ensureLabel(repository, name),
      });
    }
    for (const name of added) {
      this.emit(repository, pull, 'labeled', input.actor, {
        label: this.state.ensureLabel(repository, name),
      });
    }
  }

  comment(repository: Repository, pull: PullRequest, actor: string, body: string): IssueComment {
    this.repositories.assertWritable(repository);
    const id = this.state.allocateId();
    const now = new Date().toISOString();
    const comment: IssueComment = {
      id,
      node_id: this.state.nodeId('IssueComment', id),
      repository_id: repository.id,
      issue_number: pull.number,
      user: actor,
      body,
      created_at: now,
      updated_at: now,
    };
    this.state.addIssueComment(comment);
    pull.comments++;
    this.touch(pull);
    this.state.emit(
      { type: 'issue_comment', action: 'created', comment, pullRequest: pull },
      repository,
      actor,
    );
    return comment;
  }

  review(
    repository: Repository,
    pull: PullRequest,
    input: { actor: string; event?: ReviewEvent; body?: string; commit_id?: string },
  ): Review {
    this.repositories.assertWritable(repository);
    if (
      input.event &&
      input.event !== 'COMMENT' &&
      pull.user.toLowerCase() === input.actor.toLowerCase()
    ) {
      const verb = input.event === 'APPROVE' ? 'approve' : 'request changes on';
      throw new StateError(422, `Can not ${verb} your own pull request`, 'strings');
    }
    if ((input.event === 'REQUEST_CHANGES' || input.event === 'COMMENT') && !input.body) {
      throw new StateError(
        422,
        `Review body is required when the event is ${input.event}`,
        'custom',
      );
    }
    const id = this.state.allocateId();
    const review: Review = {
      id,
      node_id: this.state.nodeId('PullRequestReview', id),
      repository_id: repository.id,
      pull_number: pull.number,
      user: input.actor,
      body: input.body ?? '',
      state: input.event ? REVIEW_STATES[input.event] : 'PENDING',
      commit_id: input.commit_id ?? pull.head.sha,
      submitted_at: input.event ? new Date().toISOString() : null,
    };
    this.state.addReview(review);
    this.touch(pull);
    if (input.event) {
      this.state.emit(
        { type: 'pull_request_review', action: 'submitted', review, pullRequest: pull },
        repository,
        input.actor,
      );
    }
    return review;
  }

  /** GitHub's review decision: changes requested by anyone's latest review wins, then approvals. */
  reviewDecision(
    repository: Repository,
    pull: PullRequest,
  ): 'APPROVED' | 'CHANGES_REQUESTED' | 'REVIEW_REQUIRED' {
    const latest = new Map<string, ReviewState>();
    for (const r of this.state.listReviews(repository, pull.number)) {
      if (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED' || r.state === 'DISMISSED')
        latest.set(r.user, r.state);
    }
    const states = [...latest.values()];
    if (states.includes('CHANGES_REQUESTED')) return 'CHANGES_REQUESTED';
    if (states.includes('APPROVED')) return 'APPROVED';
    return 'REVIEW_REQUIRED';
  }

  enableAutoMerge(
    repository: Repository,
    pull: PullRequest,
    actor: string,
    method: MergeMethod = 'merge',
  ): void {
    if (pull.state !== 'open') throw new StateError(422, 'Pull request is closed', 'custom');
    pull.auto_merge = {
      enabled_by: actor,
      merge_method: method,
      commit_title: null,
      commit_message: null,
    };
    this.touch(pull);
    this.emit(repository, pull, 'auto_merge_enabled', actor);
  }

  disableAutoMerge(repository: Repository, pull: PullRequest, actor: string): void {
    if (!pull.auto_merge) return;
    pull.auto_merge = null;
    this.touch(pull);
    this.emit(repository, pull, 'auto_merge_disabled', actor);
  }

  /** Merges pull requests with auto-merge on whose head `sha` has just become green. */
  async mergeWhenGreen(
    repository: Repository,
    sha: string,
    isGreen: (pull: PullRequest) => boolean,
  ): Promise<void> {
    for (const pull of this.state.listPullRequests(repository)) {
      if (pull.state !== 'open' || !pull.auto_merge || pull.head.sha !== sha || pull.draft)
        continue;
      if (!isGreen(pull)) continue;
      await this.ensureComputed(repository, pull);
      if (!pull.mergeable) continue;
      await this.merge(repository, pull, {
        actor: pull.auto_merge.enabled_by,
        method: pull.auto_merge.merge_method,
      });
    }
  }

  /**
   * Pull requests follow their branches: synchronize, close on head deletion, merged by a push.
   * A fork's branch is the head of pull requests in other repositories of its network.
   */
  private async branchesMoved(
    repository: Repository,
    updates: RefUpdate[],
    actor: string,
  ): Promise<void> {
    if (repository.fork) this.headsMovedInFork(repository, updates, actor);
    const path = this.repositories.pathOf(repository);
    for (const u of updates) {
      for (const pull of this.state.listPullRequests(repository)) {
        if (pull.state !== 'open') continue;
        if (pull.head.ref === u.branch && pull.head.repository_id === repository.id) {
          this.headMoved(repository, pull, u, actor);
        }
        if (pull.base.ref === u.branch && pull.state === 'open') {
          if (u.after === ZERO_SHA) {
            this.close(repository, pull, actor);
            continue;
          }
          pull.base.sha = u.after;
          pull.computed_for = null;
          pull.mergeable = null;
          if (await this.store.isAncestor(path, pull.head.sha, u.after)) {
            // The head landed on the base outside the pull request: GitHub marks it merged.
            const now = new Date().toISOString();
            Object.assign(pull, {
              merged: true,
              merged_at: now,
              merged_by: actor,
              merge_commit_sha: u.after,
              state: 'closed',
              closed_at: now,
              auto_merge: null,
            });
            this.touch(pull);
            this.emit(repository, pull, 'closed', actor);
          }
        }
      }
    }
  }
  /** The open pull requests of other repositories in the fork's network whose head moved. */
  private headsMovedInFork(fork: Repository, updates: RefUpdate[], actor: string): void {
    for (const base of this.state.networkOf(fork)) {
      if (base === fork) continue;
      for (const pull of this.state.listPullRequests(base)) {
        if (pull.state !== 'open' || pull.head.repository_id !== fork.id) continue;
        const u = updates.find((update) => update.branch === pull.head.ref);
        if (u !== undefined) this.headMoved(base, pull, u, actor);
      }
    }
  }

  /** The head branch of an open pull request moved (synchronize) or went (closed). */
  private headMoved(repository: Repository, pull: PullRequest, u: RefUpdate, actor: string): void {
    if (u.after === ZERO_SHA) {
      this.close(repository, pull, actor);
    } else if (pull.head.sha !== u.after) {
      const before = pull.head.sha;
      pull.head.sha = u.after;
      pull.computed_for = null;
      pull.mergeable = null;
      if (pull.auto_merge) pull.auto_merge = null;
      this.touch(pull);
      this.emit(repository, pull, 'synchronize', actor, { before, after: u.after });
    }
  }
}
