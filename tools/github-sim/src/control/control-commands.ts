// The control API's commands: what people and CI do on GitHub, plus the simulator's own knobs
// (tokens and their limits, faults, the request log, seeding). Each is POST /_control/{name}
// with a JSON body; `ControlClient` calls them with types.
import type { FileChanges } from '../git/repo-store.js';
import type { FaultConfig } from '../limits/faults.js';
import { budgetKey } from '../limits/rate-limits.js';
import type { ReviewEvent } from '../operations/pull-requests.js';
import { adminLogin, seedSyntheticRepos } from '../seed/seeder.js';
import type { RequestLogEntry, SimCore } from '../sim-core.js';
import type {
  Account,
  CheckConclusion,
  CheckRun,
  CheckStatus,
  CommitStatus,
  CommitStatusState,
  Hook,
  IssueComment,
  MergeMethod,
  PullRequest,
  Repository,
  Review,
  Token,
  TokenLimits,
  Visibility,
} from '../state/model.js';
import { StateError } from '../state/sim-state.js';

interface RepoRef {
  owner: string;
  name: string;
}
interface PullRef extends RepoRef {
  number: number;
  /** Who acts (a login); the simulator's admin when absent. */
  actor?: string;
}

/** Every control command: its input and output. */
export interface ControlCommands {
  createUser: {
    input: { login: string; name?: string; email?: string; siteAdmin?: boolean };
    output: Account;
  };
  createOrg: { input: { login: string; members?: string[] }; output: Account };
  addMember: { input: { org: string; login: string }; output: Account };
  createToken: {
    input: { login: string; token?: string; label?: string; limits?: Partial<TokenLimits> };
    output: Token;
  };
  setTokenLimits: { input: { token: string; limits: Partial<TokenLimits> }; output: Token };
  /** Forgets used budgets (all tokens, or one). */
  resetRateLimits: { input: { token?: string }; output: Record<string, never> };
  createRepo: {
    input: RepoRef & {
      actor?: string;
      files?: FileChanges;
      visibility?: Visibility;
      defaultBranch?: string;
      topics?: string[];
      language?: string;
      description?: string;
      archived?: boolean;
      fork?: boolean;
    };
    output: Repository;
  };
  getRepo: { input: RepoRef; output: Repository };
  archiveRepo: { input: RepoRef & { archived?: boolean; actor?: string }; output: Repository };
  /** Commits files to a branch as a person pushing would (creating the branch from `fromBranch` or the default branch). */
  pushCommit: {
    input: RepoRef & {
      branch: string;
      files: FileChanges;
      message?: string;
      actor?: string;
      fromBranch?: string;
      force?: boolean;
    };
    output: { sha: string; before: string };
  };
  createBranch: {
    input: RepoRef & { branch: string; from?: string; actor?: string };
    output: { sha: string };
  };
  deleteBranch: {
    input: RepoRef & { branch: string; actor?: string };
    output: Record<string, never>;
  };
  openPullRequest: {
    input: RepoRef & {
      head: string;
      base?: string;
      title: string;
      body?: string;
      draft?: boolean;
      actor?: string;
    };
    output: PullRequest;
  };
  getPullRequest: { input: PullRef; output: PullRequest };
  updatePullRequest: {
    input: PullRef & { title?: string; body?: string; base?: string };
    output: PullRequest;
  };
  mergePullRequest: {
    input: PullRef & { method?: MergeMethod; sha?: string };
    output: { sha: string };
  };
  closePullRequest: { input: PullRef; output: PullRequest };
  reopenPullRequest: { input: PullRef; output: PullRequest };
  markReadyForReview: { input: PullRef; output: PullRequest };
  convertToDraft: { input: PullRef; output: PullRequest };
  submitReview: { input: PullRef & { event: ReviewEvent; body?: string }; output: Review };
  comment: { input: PullRef & { body: string }; output: IssueComment };
  setLabels: {
    input: PullRef & { add?: string[]; remove?: string[]; replace?: string[] };
    output: PullRequest;
  };
  setStatus: {
    input: RepoRef & {
      sha: string;
      state: CommitStatusState;
      context?: string;
      description?: string;
      targetUrl?: string;
      actor?: string;
    };
    output: CommitStatus;
  };
  createCheckRun: {
    input: RepoRef & {
      headSha: string;
      checkName: string;
      status?: CheckStatus;
      conclusion?: CheckConclusion;
      app?: string;
      actor?: string;
    };
    output: CheckRun;
  };
  updateCheckRun: {
    input: RepoRef & {
      id: number;
      status?: CheckStatus;
      conclusion?: CheckConclusion;
      actor?: string;
    };
    output: CheckRun;
  };
  createHook: {
    input: {
      owner: string;
      name?: string;
      /** Who creates it (default: the site admin); the ping's sender. */
      actor?: string;
      url: string;
      secret?: string;
      events?: string[];
      active?: boolean;
    };
    output: Hook;
  };
  configureFaults: { input: Partial<FaultConfig>; output: FaultConfig };
  getFaults: { input: Record<string, never>; output: FaultConfig };
  /** The request log, optionally only entries after `since` (a seq) and of one kind. */
  requests: {
    input: { since?: number; kind?: RequestLogEntry['kind'] };
    output: RequestLogEntry[];
  };
  clearRequests: { input: Record<string, never>; output: Record<string, never> };
  /** Synthetic repositories; `featureBranch` adds a branch one commit ahead of main in each. */
  seedRepos: {
    input: { owner: string; count: number; prefix?: string; featureBranch?: string };
    output: { count: number; ms: number };
  };
}

export function registerControlCommands(core: SimCore): void {
  const { state } = core;
  const repo = (input: RepoRef) => state.requireRepository(input.owner, input.name);
  const actorOf = (input: { actor?: string }) => input.actor ?? adminLogin(core);
  const pull = (input: PullRef) => {
    const r = repo(input);
    return { r, p: core.pulls.require(r, Number(input.number)) };
  };
  const add = <K extends keyof ControlCommands>(
    name: K,
    handler: (
      input: ControlCommands[K]['input'],
    ) => Promise<ControlCommands[K]['output']> | ControlCommands[K]['output'],
  ) => core.control(name, handler);

  add('createUser', (i) =>
    state.createAccount({
      login: i.login,
      type: 'User',
      name: i.name,
      email: i.email,
      site_admin: i.siteAdmin,
    }),
  );
  add('createOrg', (i) => {
    const org = state.createAccount({ login: i.login, type: 'Organization' });
    for (const member of i.members ?? []) state.addMember(org.login, member);
    return org;
  });
  add('addMember', (i) => {
    state.addMember(i.org, i.login);
    return state.requireAccount(i.org);
  });
  add('createToken', (i) =>
    state.createToken({
      login: i.login,
      token: i.token ?? `ghp_${crypto.randomUUID().replace(/-/g, '')}`,
      label: i.label,
      limits: i.limits,
    }),
  );
  add('setTokenLimits', (i) => state.setTokenLimits(i.token, i.limits));
  add('resetRateLimits', (i) => {
    core.limits.reset(
      i.token === undefined ? undefined : budgetKey(state.getToken(i.token) ?? null, ''),
    );
    return {};
  });
  add('createRepo', (i) =>
    core.repositories.create({
      owner: i.owner,
      name: i.name,
      actor: actorOf(i),
      files: i.files ?? { 'README.md': `# ${i.name}\n` },
      visibility: i.visibility,
      defaultBranch: i.defaultBranch,
      topics: i.topics,
      language: i.language,
      description: i.description,
      archived: i.archived,
      fork: i.fork,
    }),
  );
  add('getRepo', (i) => repo(i));
  add('archiveRepo', (i) => {
    const r = repo(i);
    core.repositories.setArchived(r, i.archived ?? true, actorOf(i));
    return r;
  });
  add('pushCommit', (i) =>
    core.repositories.pushFiles(repo(i), {
      branch: i.branch,
      files: i.files,
      message: i.message ?? `Update ${Object.keys(i.files).join(', ')}`,
      actor: actorOf(i),
      fromBranch: i.fromBranch,
      force: i.force,
    }),
  );
  add('createBranch', async (i) => {
    const r = repo(i);
    const from = i.from ?? r.default_branch;
    const sha =
      r.branches[from] ?? (await core.store.resolveCommit(core.repositories.pathOf(r), from));
    if (!sha) throw new StateError(422, `No commit ${from}`);
    await core.repositories.setBranch(r, i.branch, sha, actorOf(i), { create: true, force: true });
    return { sha };
  });
  add('deleteBranch', async (i) => {
    await core.repositories.deleteBranch(repo(i), i.branch, actorOf(i));
    return {};
  });
  add('openPullRequest', (i) => {
    const r = repo(i);
    return core.pulls.create(r, {
      actor: actorOf(i),
      head: i.head,
      base: i.base ?? r.default_branch,
      title: i.title,
      body: i.body,
      draft: i.draft,
    });
  });
  add('getPullRequest', (i) => pull(i).p);
  add('updatePullRequest', (i) => {
    const { r, p } = pull(i);
    return core.pulls.update(r, p, {
      actor: actorOf(i),
      title: i.title,
      body: i.body,
      base: i.base,
    });
  });
  add('mergePullRequest', (i) => {
    const { r, p } = pull(i);
    return core.pulls.merge(r, p, { actor: actorOf(i), method: i.method, sha: i.sha });
  });
  add('closePullRequest', (i) => {
    const { r, p } = pull(i);
    core.pulls.close(r, p, actorOf(i));
    return p;
  });
  add('reopenPullRequest', async (i) => {
    const { r, p } = pull(i);
    await core.pulls.reopen(r, p, actorOf(i));
    return p;
  });
  add('markReadyForReview', (i) => {
    const { r, p } = pull(i);
    core.pulls.setDraft(r, p, false, actorOf(i));
    return p;
  });
  add('convertToDraft', (i) => {
    const { r, p } = pull(i);
    core.pulls.setDraft(r, p, true, actorOf(i));
    return p;
  });
  add('submitReview', (i) => {
    const { r, p } = pull(i);
    return core.pulls.review(r, p, { actor: actorOf(i), event: i.event, body: i.body });
  });
  add('comment', (i) => {
    const { r, p } = pull(i);
    return core.pulls.comment(r, p, actorOf(i), i.body);
  });
  add('setLabels', async (i) => {
    const { r, p } = pull(i);
    await core.pulls.setLabels(r, p, {
      actor: actorOf(i),
      add: i.add,
      remove: i.remove,
      replace: i.replace,
    });
    return p;
  });
  add('setStatus', (i) =>
    core.checks.createStatus(repo(i), {
      actor: actorOf(i),
      sha: i.sha,
      state: i.state,
      context: i.context,
      description: i.description,
      target_url: i.targetUrl,
    }),
  );
  add('createCheckRun', (i) =>
    core.checks.createCheckRun(repo(i), {
      actor: actorOf(i),
      name: i.checkName,
      head_sha: i.headSha,
      status: i.status,
      conclusion: i.conclusion,
      app: i.app,
    }),
  );
  add('updateCheckRun', (i) => {
    const r = repo(i);
    const run = state.getCheckRun(Number(i.id));
    if (!run || run.repository_id !== r.id) throw new StateError(404, `No check run ${i.id}`);
    return core.checks.updateCheckRun(r, run, {
      actor: actorOf(i),
      status: i.status,
      conclusion: i.conclusion,
    });
  });
  add('createHook', (i) => {
    const owner = i.name === undefined ? state.requireAccount(i.owner) : null;
    const scope = owner ? 'organization' : 'repository';
    const ownerId = owner ? owner.id : repo({ owner: i.owner, name: i.name! }).id;
    return core.createHook(
      {
        scope,
        owner_id: ownerId,
        url: i.url,
        secret: i.secret,
        events: i.events,
        active: i.active,
      },
      actorOf(i),
    );
  });
  add('configureFaults', (i) => core.faults.configure(i));
  add('getFaults', () => core.faults.current);
  add('requests', (i) => {
    const since = i.since === undefined ? 0 : Number(i.since);
    return core.requestLog.filter(
      (e) => e.seq > since && (i.kind === undefined || e.kind === i.kind),
    );
  });
  add('clearRequests', () => {
    core.requestLog.length = 0;
    return {};
  });
  add('seedRepos', (i) =>
    seedSyntheticRepos(core, {
      owner: i.owner,
      count: Number(i.count),
      prefix: i.prefix,
      featureBranch: i.featureBranch,
    }),
  );
}
