// Repository operations shared by the REST API, the control API and git pushes: they change the
// bare repository and the state together and report what happened on the change feed.
import { type GitIdentity } from '../git/git.js';
import type { FileChanges, RepoStore } from '../git/repo-store.js';
import { ZERO_SHA, type PushCommit } from '../state/events.js';
import type { Account, Repository } from '../state/model.js';
import { StateError, type SimState } from '../state/sim-state.js';

export interface RefUpdate {
  /** Branch name (without refs/heads/). */
  branch: string;
  before: string;
  after: string;
}

/** The identity git records for an account, like GitHub's noreply addresses. */
export function identityOf(account: Account): GitIdentity {
  return {
    name: account.name ?? account.login,
    email: account.email ?? `${account.id}+${account.login}@users.noreply.github.com`,
  };
}

export class RepositoryOperations {
  /** Set by the pull request operations: reacts to branch moves (synchronize, auto-merged). */
  onBranchesMoved: (repository: Repository, updates: RefUpdate[], actor: string) => Promise<void> =
    async () => {};

  constructor(
    private readonly state: SimState,
    readonly store: RepoStore,
  ) {}

  pathOf(repository: Repository): string {
    return this.store.pathOf(repository.owner, repository.name);
  }

  /** Creates a repository with an initial commit of `files` on its default branch (or empty). */
  async create(input: {
    owner: string;
    name: string;
    actor: string;
    description?: string | null;
    visibility?: Repository['visibility'];
    defaultBranch?: string;
    topics?: string[];
    language?: string | null;
    fork?: boolean;
    archived?: boolean;
    files?: FileChanges;
    message?: string;
  }): Promise<Repository> {
    if (!/^[A-Za-z0-9._-]+$/.test(input.name)) {
      throw new StateError(422, `Invalid repository name ${input.name}`, 'invalid');
    }
    const defaultBranch = input.defaultBranch ?? 'main';
    const repository = this.state.createRepository({
      owner: input.owner,
      name: input.name,
      description: input.description,
      visibility: input.visibility,
      default_branch: defaultBranch,
      topics: input.topics,
      language: input.language,
      fork: input.fork,
      archived: false,
    });
    const path = await this.store.createBare(repository.owner, repository.name, defaultBranch);
    if (input.files && Object.keys(input.files).length > 0) {
      const author = identityOf(this.state.requireAccount(input.actor));
      const sha = await this.store.commitFiles(path, {
        parent: null,
        files: input.files,
        message: input.message ?? 'Initial commit',
        author,
      });
      await this.store.updateRef(path, `refs/heads/${defaultBranch}`, sha);
      repository.branches[defaultBranch] = sha;
    }
    this.state.emit({ type: 'repository', action: 'created' }, repository, input.actor);
    if (input.archived) this.setArchived(repository, true, input.actor);
    this.state.touch();
    return repository;
  }

  /**
   * Forks `repository` into `owner` (a user or an organization) as GitHub does: an account has
   * at most one fork of a network, so an existing one is returned as it is; a name already taken
   * in the account gets GitHub's `-1`, `-2`… suffix. The fork starts with the parent's branches
   * (only the default branch with `defaultBranchOnly`) and shares the network's objects.
   */
  async fork(
    repository: Repository,
    input: { owner: string; actor: string; name?: string; defaultBranchOnly?: boolean },
  ): Promise<Repository> {
    const owner = this.state.requireAccount(input.owner);
    const existing = this.state
      .networkOf(repository)
      .find((r) => r.fork && r.owner.toLowerCase() === owner.login.toLowerCase());
    if (existing !== undefined) return existing;
    if (repository.owner.toLowerCase() === owner.login.toLowerCase()) {
      throw new StateError(422, 'Cannot fork a repository into its own owner', 'custom');
    }
    const wanted = input.name ?? repository.name;
    if (!/^[A-Za-z0-9._-]+$/.test(wanted)) {
      throw new StateError(422, `Invalid repository name ${wanted}`, 'invalid:name');
    }
    let name = wanted;
    for (let n = 1; this.state.getRepository(owner.login, name) !== undefined; n++)
      name = `${wanted}-${n}`;
    const branches = input.defaultBranchOnly
      ? Object.fromEntries(
          Object.entries(repository.branches).filter(([b]) => b === repository.default_branch),
        )
      : { ...repository.branches };
    const fork = this.state.createRepository({
      owner: owner.login,
      name,
      description: repository.description,
      visibility: repository.visibility,
      default_branch: repository.default_branch,
      topics: [...repository.topics],
      language: repository.language,
      fork: true,
      parent_id: repository.id,
      source_id: repository.source_id ?? repository.id,
      branches,
    });
    fork.pushed_at = repository.pushed_at;
    const sourcePath = this.pathOf(this.state.getRepositoryById(fork.source_id!)!);
    await this.store.createFork(
      sourcePath,
      fork.owner,
      fork.name,
      fork.default_branch,
      Object.fromEntries(Object.entries(branches).map(([b, sha]) => [`refs/heads/${b}`, sha])),
    );
    this.state.emit({ type: 'repository', action: 'created' }, fork, input.actor);
    this.state.touch();
    return fork;
  }

  setArchived(repository: Repository, archived: boolean, actor: string): void {
    if (repository.archived === archived) return;
    repository.archived = archived;
    repository.updated_at = new Date().toISOString();
    this.state.touch();
    this.state.emit(
      { type: 'repository', action: archived ? 'archived' : 'unarchived' },
      repository,
      actor,
    );
  }

  /** Refuses writes to archived repositories the way GitHub does (403, "Repository was archived so is read-only."). */
  assertWritable(repository: Repository): void {
    if (repository.archived) {
      throw new StateError(403, 'Repository was archived so is read-only.');
    }
  }

  /**
   * Commits `files` to `branch` as `actor` (a person pushing): on top of the branch's head, or of
   * `fromBranch` when the branch does not exist yet; `force` starts from `fromBranch` even if it does.
   */
  async pushFiles(
    repository: Repository,
    input: {
      branch: string;
      files: FileChanges;
      message: string;
      actor: string;
      fromBranch?: string;
      force?: boolean;
    },
  ): Promise<{ sha: string; before: string }> {
    this.assertWritable(repository);
    const path = this.pathOf(repository);
    const author = identityOf(this.state.requireAccount(input.actor));
    const result = await this.store.withLock(path, async () => {
      const current = repository.branches[input.branch];
      const fromBranch = input.fromBranch ?? repository.default_branch;
      const parent =
        current !== undefined && !input.force
          ? current
          : (repository.branches[fromBranch] ?? (input.force ? current : undefined) ?? null);
      if (input.fromBranch !== undefined && repository.branches[input.fromBranch] === undefined) {
        throw new StateError(422, `Branch ${input.fromBranch} does not exist`);
      }
      const sha = await this.store.commitFiles(path, {
        parent,
        files: input.files,
        message: input.message,
        author,
      });
      await this.store.updateRef(path, `refs/heads/${input.branch}`, sha, current ?? ZERO_SHA);
      return { sha, before: current ?? ZERO_SHA };
    });
    await this.branchesMoved(
      repository,
      [{ branch: input.branch, before: result.before, after: result.sha }],
      input.actor,
    );
    return result;
  }

  /** Creates or moves a branch to `sha`; without `force`, only fast-forwards (GitHub's update-ref rule). */
  async setBranch(
    repository: Repository,
    branch: string,
    sha: string,
    actor: string,
    options: { force?: boolean; create?: boolean } = {},
  ): Promise<void> {
    this.assertWritable(repository);
    const path = this.pathOf(repository);
    const before = await this.store.withLock(path, async () => {
      const current = repository.branches[branch];
      if (options.create && current !== undefined) {
        throw new StateError(422, 'Reference already exists', 'already_exists');
      }
      if (!options.create && current === undefined) {
        throw new StateError(422, 'Reference does not exist', 'message');
      }
      if ((await this.store.objectType(path, sha)) !== 'commit') {
        throw new StateError(422, 'Object does not exist', 'message');
      }
      if (
        current !== undefined &&
        !options.force &&
        !(await this.store.isAncestor(path, current, sha))
      ) {
        throw new StateError(422, 'Update is not a fast forward', 'message');
      }
      await this.store.updateRef(path, `refs/heads/${branch}`, sha, current ?? ZERO_SHA);
      return current ?? ZERO_SHA;
    });
    await this.branchesMoved(repository, [{ branch, before, after: sha }], actor);
  }

  async deleteBranch(repository: Repository, branch: string, actor: string): Promise<void> {
    this.assertWritable(repository);
    const path = this.pathOf(repository);
    const before = await this.store.withLock(path, async () => {
      const current = repository.branches[branch];
      if (current === undefined) throw new StateError(422, 'Reference does not exist', 'message');
      await this.store.deleteRef(path, `refs/heads/${branch}`);
      return current;
    });
    await this.branchesMoved(repository, [{ branch, before, after: ZERO_SHA }], actor);
  }

  /** Re-reads the branches from the bare repository (after a git push) and reports the differences. */
  async refreshFromDisk(repository: Repository, pusher: string): Promise<RefUpdate[]> {
    const path = this.pathOf(repository);
    const updates = await this.store.withLock(path, async () => {
      const onDisk = await this.store.readRefs(path);
      const changed: RefUpdate[] = [];
      for (const [branch, sha] of Object.entries(onDisk)) {
        const before = repository.branches[branch];
        if (before !== sha) changed.push({ branch, before: before ?? ZERO_SHA, after: sha });
      }
      for (const [branch, before] of Object.entries(repository.branches)) {
        if (!(branch in onDisk)) changed.push({ branch, before, after: ZERO_SHA });
      }
      return changed;
    });
    if (updates.length > 0) await this.branchesMoved(repository, updates, pusher);
    return updates;
  }

  /**
   * After a push that named these branches: reads their ref files (no git process) and records
   * what moved, as `refreshFromDisk` does for every ref.
   */
  async refreshBranches(
    repository: Repository,
    pusher: string,
    branches: readonly string[],
  ): Promise<RefUpdate[]> {
    const path = this.pathOf(repository);
    const updates = await this.store.withLock(path, async () => {
      const onDisk = await this.store.readBranchFiles(path, branches);
      if (onDisk === undefined) return undefined;
      const changed: RefUpdate[] = [];
      for (const [branch, sha] of Object.entries(onDisk)) {
        const before = repository.branches[branch];
        if (sha !== null && before !== sha)
          changed.push({ branch, before: before ?? ZERO_SHA, after: sha });
        if (sha === null && before !== undefined) changed.push({ branch, before, after: ZERO_SHA });
      }
      return changed;
    });
    if (updates === undefined) return this.refreshFromDisk(repository, pusher);
    if (updates.length > 0) await this.branchesMoved(repository, updates, pusher);
    return updates;
  }

  /** Records moved branches in the state, emits `push` for each, then lets pull requests react. */
  async branchesMoved(repository: Repository, updates: RefUpdate[], actor: string): Promise<void> {
    const path = this.pathOf(repository);
    const now = new Date().toISOString();
    const forced = new Map<string, boolean>();
    for (const u of updates) {
      forced.set(
        u.branch,
        u.before !== ZERO_SHA &&
          u.after !== ZERO_SHA &&
          !(await this.store.isAncestor(path, u.before, u.after)),
      );
    }
    for (const u of updates) {
      if (u.after === ZERO_SHA) delete repository.branches[u.branch];
      else repository.branches[u.branch] = u.after;
    }
    repository.pushed_at = now;
    repository.updated_at = now;
    this.state.touch();
    // Listing the commits costs two git processes: only for a push someone hears about.
    const observed = this.state.isObserved('push', repository);
    for (const u of updates) {
      const commits =
        u.after === ZERO_SHA || !observed ? [] : await this.pushCommits(repository, u);
      const pusher = this.state.accountOrGhost(actor);
      this.state.emit(
        {
          type: 'push',
          ref: `refs/heads/${u.branch}`,
          before: u.before,
          after: u.after,
          created: u.before === ZERO_SHA,
          deleted: u.after === ZERO_SHA,
          forced: forced.get(u.branch) ?? false,
          commits,
          pusher,
        },
        repository,
        actor,
      );
    }
    await this.onBranchesMoved(repository, updates, actor);
  }

  /** The commits a push introduced: new to this branch and to every other branch, oldest first, at most 20. */
  private async pushCommits(repository: Repository, u: RefUpdate): Promise<PushCommit[]> {
    const path = this.pathOf(repository);
    const others = Object.entries(repository.branches)
      .filter(([name]) => name !== u.branch)
      .map(([, sha]) => sha);
    const exclude = [...new Set([...(u.before === ZERO_SHA ? [] : [u.before]), ...others])];
    const commits = await this.store.listCommits(path, u.after, exclude, 20);
    const files = await this.store.filesOfCommits(
      path,
      commits.map((c) => c.sha),
    );
    return commits.map((c) => ({
      id: c.sha,
      tree_id: c.tree,
      message: c.message,
      timestamp: c.committer.date,
      author: { name: c.author.name, email: c.author.email },
      committer: { name: c.committer.name, email: c.committer.email },
      added: files.get(c.sha)?.added ?? [],
      removed: files.get(c.sha)?.removed ?? [],
      modified: files.get(c.sha)?.modified ?? [],
    }));
  }
}
