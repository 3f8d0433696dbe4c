// The simulator's in-memory state: records with the indexes the API needs, id allocation, and the
// change feed. It knows nothing about git or HTTP; `operations/` combine it with the bare repos.
import { EventEmitter } from 'node:events';
import type { ChangeInput, StateChange } from './events.js';
import type {
  Account,
  CheckRun,
  CheckSuite,
  CommitStatus,
  Hook,
  IssueComment,
  Label,
  PullRequest,
  Repository,
  Review,
  StateSnapshot,
  Token,
  TokenLimits,
} from './model.js';
import { encodeNodeId, type NodeType } from './node-id.js';

/** GitHub's defaults for a personal access token. */
export const DEFAULT_TOKEN_LIMITS: TokenLimits = {
  core: 5000,
  search: 30,
  graphql: 5000,
  windowSeconds: 3600,
  contentPerMinute: 80,
  contentPerHour: 500,
  concurrency: 100,
  secondaryRetryAfterSeconds: 60,
  disabled: false,
};

const DEFAULT_LABELS: [string, string, string][] = [
  ['bug', 'd73a4a', "Something isn't working"],
  ['documentation', '0075ca', 'Improvements or additions to documentation'],
  ['enhancement', 'a2eeef', 'New feature or request'],
];

export type ChangeListener = (change: StateChange) => void;

const key = (repositoryId: number, n: number | string) => `${repositoryId}:${n}`;
const lower = (s: string) => s.toLowerCase();

export class SimState {
  private nextId = 1;
  private seq = 0;
  private readonly feed = new EventEmitter();
  private readonly hookedOnly = new Set<ChangeListener>();

  readonly accounts = new Map<string, Account>(); // by lower-case login
  private readonly accountsById = new Map<number, Account>();
  private readonly repositories = new Map<string, Repository>(); // by lower-case "owner/name"
  private readonly repositoriesById = new Map<number, Repository>();
  /** Parent repository id → how many forks were made of it. */
  private readonly forkCounts = new Map<number, number>();
  private readonly pulls = new Map<string, PullRequest>(); // by "repoId:number"
  private readonly pullsById = new Map<number, PullRequest>();
  private readonly labels = new Map<string, Label>(); // by "repoId:lower-case name"
  private readonly comments = new Map<number, IssueComment>();
  private readonly reviews = new Map<number, Review>();
  private readonly statuses = new Map<number, CommitStatus>();
  private readonly checkSuites = new Map<number, CheckSuite>();
  private readonly checkRuns = new Map<number, CheckRun>();
  private readonly tokens = new Map<string, Token>();
  private readonly hooks = new Map<number, Hook>();

  /** Called after every mutation (persistence schedules a snapshot). */
  onMutation: () => void = () => {};

  constructor() {
    this.feed.setMaxListeners(0);
  }

  // ---- change feed -------------------------------------------------------------------------

  /**
   * Subscribes to every change; returns the unsubscribe function. A listener `onlyWhenHooked`
   * (the webhook deliverer) ignores changes no hook subscribes to, so they need no details.
   */
  on(
    event: 'change',
    listener: ChangeListener,
    options: { onlyWhenHooked?: boolean } = {},
  ): () => void {
    this.feed.on(event, listener);
    if (options.onlyWhenHooked) this.hookedOnly.add(listener);
    return () => this.off(event, listener);
  }

  off(event: 'change', listener: ChangeListener): void {
    this.feed.off(event, listener);
    this.hookedOnly.delete(listener);
  }

  /**
   * Whether a change of this type in this repository reaches anyone: a hook subscribes to it, or
   * a listener takes every change. Details that cost git processes (the commits of a push) are
   * worked out only when it does.
   */
  isObserved(type: string, repository: Repository): boolean {
    const listeners = this.feed.listeners('change') as ChangeListener[];
    if (listeners.some((l) => !this.hookedOnly.has(l))) return true;
    return listeners.length > 0 && this.hooksFor(repository, type).length > 0;
  }

  /** Stamps a change with copies of its repository, owner and sender and tells every listener. */
  emit(input: ChangeInput, repository: Repository, senderLogin: string): StateChange {
    const change = structuredClone({
      ...input,
      seq: ++this.seq,
      at: new Date().toISOString(),
      repository,
      owner: this.requireAccount(repository.owner),
      sender: this.accountOrGhost(senderLogin),
    }) as StateChange;
    for (const listener of this.feed.listeners('change') as ChangeListener[]) {
      try {
        listener(change);
      } catch (error) {
        // A broken consumer must not undo a change that has already happened.
        console.error('github-sim: a change listener failed', error);
      }
    }
    return change;
  }

  // ---- ids -----------------------------------------------------------------------------------

  allocateId(): number {
    return this.nextId++;
  }

  nodeId(type: NodeType, id: number): string {
    return encodeNodeId(type, id);
  }

  touch(): void {
    this.onMutation();
  }

  // ---- accounts ------------------------------------------------------------------------------

  createAccount(input: {
    login: string;
    type: 'User' | 'Organization';
    name?: string | null;
    email?: string | null;
    site_admin?: boolean;
    members?: string[];
  }): Account {
    if (this.accounts.has(lower(input.login))) {
      throw new StateError(422, `Account ${input.login} already exists`);
    }
    const id = this.allocateId();
    const now = new Date().toISOString();
    const account: Account = {
      id,
      node_id: this.nodeId(input.type, id),
      login: input.login,
      type: input.type,
      name: input.name ?? null,
      email: input.email ?? null,
      site_admin: input.site_admin ?? false,
      members: input.members ?? [],
      created_at: now,
      updated_at: now,
    };
    this.indexAccount(account);
    this.touch();
    return account;
  }

  private indexAccount(account: Account) {
    this.accounts.set(lower(account.login), account);
    this.accountsById.set(account.id, account);
  }

  getAccount(login: string): Account | undefined {
    return this.accounts.get(lower(login));
  }

  getAccountById(id: number): Account | undefined {
    return this.accountsById.get(id);
  }

  requireAccount(login: string): Account {
    const account = this.getAccount(login);
    if (!account) throw new StateError(404, `No account ${login}`);
    return account;
  }

  /** GitHub shows deleted users as "ghost". */
  accountOrGhost(login: string): Account {
    return (
      this.getAccount(login) ?? {
        id: 10137,
        node_id: encodeNodeId('User', 10137),
        login: 'ghost',
        type: 'User',
        name: 'Deleted user',
        email: null,
        site_admin: false,
        members: [],
        created_at: new Date(0).toISOString(),
        updated_at: new Date(0).toISOString(),
      }
    );
  }

  addMember(org: string, login: string): void {
    const account = this.requireAccount(org);
    if (!account.members.some((m) => lower(m) === lower(login))) account.members.push(login);
    this.touch();
  }

  isMember(org: Account, login: string): boolean {
    return org.members.some((m) => lower(m) === lower(login));
  }

  listAccounts(): Account[] {
    return [...this.accountsById.values()];
  }

  // ---- tokens --------------------------------------------------------------------------------

  createToken(input: {
    login: string;
    token: string;
    label?: string;
    limits?: Partial<TokenLimits>;
  }): Token {
    this.requireAccount(input.login);
    const token: Token = {
      token: input.token,
      login: input.login,
      label: input.label ?? input.login,
      limits: { ...DEFAULT_TOKEN_LIMITS, ...input.limits },
      created_at: new Date().toISOString(),
    };
    this.tokens.set(token.token, token);
    this.touch();
    return token;
  }

  getToken(token: string): Token | undefined {
    return this.tokens.get(token);
  }

  setTokenLimits(token: string, limits: Partial<TokenLimits>): Token {
    const record = this.tokens.get(token);
    if (!record) throw new StateError(404, 'No such token');
    record.limits = { ...record.limits, ...limits };
    this.touch();
    return record;
  }

  listTokens(): Token[] {
    return [...this.tokens.values()];
  }

  // ---- repositories --------------------------------------------------------------------------

  createRepository(input: {
    owner: string;
    name: string;
    description?: string | null;
    visibility?: Repository['visibility'];
    default_branch?: string;
    archived?: boolean;
    fork?: boolean;
    /** For a fork: the repository forked and the root of its network. */
    parent_id?: number;
    source_id?: number;
    topics?: string[];
    language?: string | null;
    branches?: Record<string, string>;
  }): Repository {
    const owner = this.requireAccount(input.owner);
    const fullName = `${owner.login}/${input.name}`;
    if (this.repositories.has(lower(fullName))) {
      throw new StateError(422, `Repository ${fullName} already exists`);
    }
    const id = this.allocateId();
    const now = new Date().toISOString();
    const repository: Repository = {
      id,
      node_id: this.nodeId('Repository', id),
      owner: owner.login,
      name: input.name,
      description: input.description ?? null,
      visibility: input.visibility ?? 'public',
      default_branch: input.default_branch ?? 'main',
      archived: input.archived ?? false,
      fork: input.fork ?? false,
      ...(input.parent_id === undefined ? {} : { parent_id: input.parent_id }),
      ...(input.source_id === undefined ? {} : { source_id: input.source_id }),
      topics: input.topics ?? [],
      language: input.language ?? null,
      branches: input.branches ?? {},
      next_number: 1,
      created_at: now,
      updated_at: now,
      pushed_at: now,
    };
    this.indexRepository(repository);
    for (const [name, color, description] of DEFAULT_LABELS) {
      this.createLabel(repository, { name, color, description, default: true });
    }
    this.touch();
    return repository;
  }

  private indexRepository(repository: Repository) {
    this.repositories.set(lower(`${repository.owner}/${repository.name}`), repository);
    this.repositoriesById.set(repository.id, repository);
    if (repository.parent_id !== undefined)
      this.forkCounts.set(
        repository.parent_id,
        (this.forkCounts.get(repository.parent_id) ?? 0) + 1,
      );
  }

  /** How many forks were made of `repository` directly (GitHub's `forks_count`). */
  forkCountOf(repository: Repository): number {
    return this.forkCounts.get(repository.id) ?? 0;
  }

  getRepository(owner: string, name: string): Repository | undefined {
    return this.repositories.get(lower(`${owner}/${name}`));
  }

  getRepositoryById(id: number): Repository | undefined {
    return this.repositoriesById.get(id);
  }

  requireRepository(owner: string, name: string): Repository {
    const repository = this.getRepository(owner, name);
    if (!repository) throw new StateError(404, `No repository ${owner}/${name}`);
    return repository;
  }

  listRepositories(): Repository[] {
    return [...this.repositoriesById.values()];
  }

  /**
   * The repositories of `repository`'s fork network: its source and every fork of it (GitHub
   * lets a pull request's head be any of them), `repository` included.
   */
  networkOf(repository: Repository): Repository[] {
    const source = repository.source_id ?? repository.id;
    return this.listRepositories().filter((r) => (r.source_id ?? r.id) === source);
  }

  // ---- labels --------------------------------------------------------------------------------

  createLabel(
    repository: Repository,
    input: { name: string; color?: string; description?: string | null; default?: boolean },
  ): Label {
    const existing = this.labels.get(key(repository.id, lower(input.name)));
    if (existing) throw new StateError(422, `Label ${input.name} already exists`, 'already_exists');
    const id = this.allocateId();
    const label: Label = {
      id,
      node_id: this.nodeId('Label', id),
      repository_id: repository.id,
      name: input.name,
      color: input.color ?? 'ededed',
      description: input.description ?? null,
      default: input.default ?? false,
    };
    this.labels.set(key(repository.id, lower(label.name)), label);
    this.touch();
    return label;
  }

  getLabel(repository: Repository, name: string): Label | undefined {
    return this.labels.get(key(repository.id, lower(name)));
  }

  /** The label, created with GitHub's default colour when the repository does not have it yet. */
  ensureLabel(repository: Repository, name: string): Label {
    return this.getLabel(repository, name) ?? this.createLabel(repository, { name });
  }

  listLabels(repository: Repository): Label[] {
    return [...this.labels.values()].filter((l) => l.repository_id === repository.id);
  }

  // ---- pull requests -------------------------------------------------------------------------

  addPullRequest(pull: PullRequest): void {
    this.pulls.set(key(pull.repository_id, pull.number), pull);
    this.pullsById.set(pull.id, pull);
    this.touch();
  }

  getPullRequest(repository: Repository, number: number): PullRequest | undefined {
    return this.pulls.get(key(repository.id, number));
  }

  getPullRequestById(id: number): PullRequest | undefined {
    return this.pullsById.get(id);
  }

  listPullRequests(repository: Repository): PullRequest[] {
    const result: PullRequest[] = [];
    for (let n = 1; n < repository.next_number; n++) {
      const pull = this.pulls.get(key(repository.id, n));
      if (pull) result.push(pull);
    }
    return result;
  }

  /** Every pull request in any repository, for head-sha lookups after pushes. */
  allPullRequests(): IterableIterator<PullRequest> {
    return this.pullsById.values();
  }

  // ---- comments, reviews ---------------------------------------------------------------------

  addIssueComment(comment: IssueComment): void {
    this.comments.set(comment.id, comment);
    this.touch();
  }

  getIssueComment(id: number): IssueComment | undefined {
    return this.comments.get(id);
  }

  listIssueComments(repository: Repository, number: number): IssueComment[] {
    return [...this.comments.values()].filter(
      (c) => c.repository_id === repository.id && c.issue_number === number,
    );
  }

  addReview(review: Review): void {
    this.reviews.set(review.id, review);
    this.touch();
  }

  getReview(id: number): Review | undefined {
    return this.reviews.get(id);
  }

  listReviews(repository: Repository, number: number): Review[] {
    return [...this.reviews.values()].filter(
      (r) => r.repository_id === repository.id && r.pull_number === number,
    );
  }

  // ---- statuses and checks -------------------------------------------------------------------

  addStatus(status: CommitStatus): void {
    this.statuses.set(status.id, status);
    this.touch();
  }

  /** Statuses of a commit, newest first (GitHub's order). */
  listStatuses(repository: Repository, sha: string): CommitStatus[] {
    return [...this.statuses.values()]
      .filter((s) => s.repository_id === repository.id && s.sha === sha)
      .reverse();
  }

  addCheckSuite(suite: CheckSuite): void {
    this.checkSuites.set(suite.id, suite);
    this.touch();
  }

  getCheckSuite(id: number): CheckSuite | undefined {
    return this.checkSuites.get(id);
  }

  listCheckSuites(repository: Repository, sha: string): CheckSuite[] {
    return [...this.checkSuites.values()].filter(
      (s) => s.repository_id === repository.id && s.head_sha === sha,
    );
  }

  addCheckRun(run: CheckRun): void {
    this.checkRuns.set(run.id, run);
    this.touch();
  }

  getCheckRun(id: number): CheckRun | undefined {
    return this.checkRuns.get(id);
  }

  listCheckRuns(repository: Repository, sha: string): CheckRun[] {
    return [...this.checkRuns.values()].filter(
      (r) => r.repository_id === repository.id && r.head_sha === sha,
    );
  }

  listCheckRunsOfSuite(suiteId: number): CheckRun[] {
    return [...this.checkRuns.values()].filter((r) => r.check_suite_id === suiteId);
  }

  // ---- hooks ---------------------------------------------------------------------------------

  createHook(input: {
    scope: Hook['scope'];
    owner_id: number;
    url: string;
    secret?: string | null;
    events?: string[];
    active?: boolean;
    content_type?: Hook['content_type'];
  }): Hook {
    const now = new Date().toISOString();
    const hook: Hook = {
      id: this.allocateId(),
      scope: input.scope,
      owner_id: input.owner_id,
      url: input.url,
      secret: input.secret ?? null,
      content_type: input.content_type ?? 'json',
      insecure_ssl: '0',
      events: input.events ?? ['push'],
      active: input.active ?? true,
      created_at: now,
      updated_at: now,
    };
    this.hooks.set(hook.id, hook);
    this.touch();
    return hook;
  }

  getHook(id: number): Hook | undefined {
    return this.hooks.get(id);
  }

  updateHook(id: number, patch: Partial<Omit<Hook, 'id' | 'scope' | 'owner_id'>>): Hook {
    const hook = this.hooks.get(id);
    if (!hook) throw new StateError(404, 'No such hook');
    Object.assign(hook, patch, { updated_at: new Date().toISOString() });
    this.touch();
    return hook;
  }

  deleteHook(id: number): boolean {
    const deleted = this.hooks.delete(id);
    if (deleted) this.touch();
    return deleted;
  }

  /** Hooks of one repository or organization. */
  listHooks(scope: Hook['scope'], ownerId: number): Hook[] {
    return [...this.hooks.values()].filter((h) => h.scope === scope && h.owner_id === ownerId);
  }

  /** The active hooks a change in this repository triggers: its own and its organization's. */
  hooksFor(repository: Repository, event: string): Hook[] {
    const owner = this.getAccount(repository.owner);
    return [...this.hooks.values()].filter(
      (h) =>
        h.active &&
        (h.events.includes(event) || h.events.includes('*')) &&
        ((h.scope === 'repository' && h.owner_id === repository.id) ||
          (h.scope === 'organization' && owner !== undefined && h.owner_id === owner.id)),
    );
  }

  // ---- snapshot ------------------------------------------------------------------------------

  snapshot(): StateSnapshot {
    return {
      version: 1,
      nextId: this.nextId,
      accounts: [...this.accountsById.values()],
      repositories: [...this.repositoriesById.values()],
      pullRequests: [...this.pullsById.values()],
      labels: [...this.labels.values()],
      issueComments: [...this.comments.values()],
      reviews: [...this.reviews.values()],
      statuses: [...this.statuses.values()],
      checkSuites: [...this.checkSuites.values()],
      checkRuns: [...this.checkRuns.values()],
      tokens: [...this.tokens.values()],
      hooks: [...this.hooks.values()],
    };
  }

  static fromSnapshot(snapshot: StateSnapshot): SimState {
    const state = new SimState();
    state.nextId = snapshot.nextId;
    snapshot.accounts.forEach((a) => state.indexAccount(a));
    snapshot.repositories.forEach((r) => state.indexRepository(r));
    snapshot.pullRequests.forEach((p) => {
      state.pulls.set(key(p.repository_id, p.number), p);
      state.pullsById.set(p.id, p);
    });
    snapshot.labels.forEach((l) => state.labels.set(key(l.repository_id, lower(l.name)), l));
    snapshot.issueComments.forEach((c) => state.comments.set(c.id, c));
    snapshot.reviews.forEach((r) => state.reviews.set(r.id, r));
    snapshot.statuses.forEach((s) => state.statuses.set(s.id, s));
    snapshot.checkSuites.forEach((s) => state.checkSuites.set(s.id, s));
    snapshot.checkRuns.forEach((r) => state.checkRuns.set(r.id, r));
    snapshot.tokens.forEach((t) => state.tokens.set(t.token, t));
    snapshot.hooks.forEach((h) => state.hooks.set(h.id, h));
    return state;
  }
}

/** A refused state change; `status` is the HTTP status GitHub would answer with. */
export class StateError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StateError';
  }
}
