// Commit statuses, check suites and check runs, as CI would report them; a green head triggers
// auto-merge.
import type {
  CheckConclusion,
  CheckRun,
  CheckStatus,
  CheckSuite,
  CommitStatus,
  CommitStatusState,
  PullRequest,
  Repository,
} from '../state/model.js';
import { StateError, type SimState } from '../state/sim-state.js';
import type { PullRequestOperations } from './pull-requests.js';
import type { RepositoryOperations } from './repositories.js';

export interface CheckRunInput {
  actor: string;
  name: string;
  head_sha: string;
  status?: CheckStatus;
  conclusion?: CheckConclusion | null;
  details_url?: string | null;
  external_id?: string | null;
  output?: { title?: string | null; summary?: string | null; text?: string | null };
  /** The app reporting the run; one check suite per app and commit. */
  app?: string;
}

export class CheckOperations {
  constructor(
    private readonly state: SimState,
    private readonly repositories: RepositoryOperations,
    private readonly pulls: PullRequestOperations,
  ) {}

  private async requireCommit(repository: Repository, sha: string): Promise<string> {
    const path = this.repositories.pathOf(repository);
    const resolved = /^[0-9a-f]{40}$/.test(sha)
      ? sha
      : await this.repositories.store.resolveCommit(path, sha);
    if (!resolved || (await this.repositories.store.objectType(path, resolved)) !== 'commit') {
      throw new StateError(422, `No commit found for SHA: ${sha}`, 'custom');
    }
    return resolved;
  }

  async createStatus(
    repository: Repository,
    input: {
      actor: string;
      sha: string;
      state: CommitStatusState;
      context?: string;
      description?: string | null;
      target_url?: string | null;
    },
  ): Promise<CommitStatus> {
    this.repositories.assertWritable(repository);
    const sha = await this.requireCommit(repository, input.sha);
    const id = this.state.allocateId();
    const now = new Date().toISOString();
    const status: CommitStatus = {
      id,
      node_id: this.state.nodeId('StatusContext', id),
      repository_id: repository.id,
      sha,
      state: input.state,
      context: input.context ?? 'default',
      description: input.description ?? null,
      target_url: input.target_url ?? null,
      creator: input.actor,
      created_at: now,
      updated_at: now,
    };
    this.state.addStatus(status);
    const branches = Object.entries(repository.branches)
      .filter(([, head]) => head === sha)
      .map(([name]) => ({ name, sha }));
    this.state.emit({ type: 'status', status, branches }, repository, input.actor);
    await this.pulls.mergeWhenGreen(repository, sha, (pull) => this.isGreen(repository, pull));
    return status;
  }

  /** Statuses all success and check runs all completed without failure. */
  isGreen(repository: Repository, pull: PullRequest): boolean {
    const latest = new Map<string, CommitStatusState>();
    for (const s of this.state.listStatuses(repository, pull.head.sha))
      if (!latest.has(s.context)) latest.set(s.context, s.state);
    const statusesGreen = [...latest.values()].every((s) => s === 'success');
    const runs = this.state.listCheckRuns(repository, pull.head.sha);
    const runsGreen = runs.every(
      (r) =>
        r.status === 'completed' &&
        (r.conclusion === 'success' || r.conclusion === 'neutral' || r.conclusion === 'skipped'),
    );
    return statusesGreen && runsGreen && (latest.size > 0 || runs.length > 0);
  }

  private suiteFor(repository: Repository, sha: string, app: string, actor: string): CheckSuite {
    const existing = this.state.listCheckSuites(repository, sha).find((s) => s.app === app);
    if (existing) return existing;
    const id = this.state.allocateId();
    const now = new Date().toISOString();
    const branch =
      Object.entries(repository.branches).find(([, head]) => head === sha)?.[0] ?? null;
    const suite: CheckSuite = {
      id,
      node_id: this.state.nodeId('CheckSuite', id),
      repository_id: repository.id,
      head_sha: sha,
      head_branch: branch,
      app,
      status: 'queued',
      conclusion: null,
      created_at: now,
      updated_at: now,
    };
    this.state.addCheckSuite(suite);
    this.state.emit(
      { type: 'check_suite', action: 'requested', checkSuite: suite },
      repository,
      actor,
    );
    return suite;
  }

  async createCheckRun(repository: Repository, input: CheckRunInput): Promise<CheckRun> {
    this.repositories.assertWritable(repository);
    const sha = await this.requireCommit(repository, input.head_sha);
    const suite = this.suiteFor(repository, sha, input.app ?? 'github-actions', input.actor);
    const id = this.state.allocateId();
    const now = new Date().toISOString();
    const status = input.conclusion ? 'completed' : (input.status ?? 'queued');
    const run: CheckRun = {
      id,
      node_id: this.state.nodeId('CheckRun', id),
      repository_id: repository.id,
      check_suite_id: suite.id,
      head_sha: sha,
      name: input.name,
      status,
      conclusion: status === 'completed' ? (input.conclusion ?? 'success') : null,
      external_id: input.external_id ?? null,
      details_url: input.details_url ?? null,
      output: {
        title: input.output?.title ?? null,
        summary: input.output?.summary ?? null,
        text: input.output?.text ?? null,
      },
      started_at: now,
      completed_at: status === 'completed' ? now : null,
    };
    this.state.addCheckRun(run);
    this.state.emit(
      { type: 'check_run', action: 'created', checkRun: run, checkSuite: suite },
      repository,
      input.actor,
    );
    await this.afterRunChanged(repository, run, suite, input.actor);
    return run;
  }

  async updateCheckRun(
    repository: Repository,
    run: CheckRun,
    input: Partial<Omit<CheckRunInput, 'head_sha' | 'app'>> & { actor: string },
  ): Promise<CheckRun> {
    this.repositories.assertWritable(repository);
    const wasCompleted = run.status === 'completed';
    if (input.name !== undefined) run.name = input.name;
    if (input.details_url !== undefined) run.details_url = input.details_url;
    if (input.external_id !== undefined) run.external_id = input.external_id;
    if (input.output) run.output = { ...run.output, ...input.output };
    if (input.conclusion) {
      run.status = 'completed';
      run.conclusion = input.conclusion;
    } else if (input.status) {
      run.status = input.status;
      if (input.status === 'completed' && !run.conclusion) run.conclusion = 'success';
    }
    if (run.status === 'completed' && !run.completed_at)
      run.completed_at = new Date().toISOString();
    this.state.touch();
    const suite = this.state.getCheckSuite(run.check_suite_id)!;
    if (!wasCompleted && run.status === 'completed') {
      this.state.emit(
        { type: 'check_run', action: 'completed', checkRun: run, checkSuite: suite },
        repository,
        input.actor,
      );
    }
    await this.afterRunChanged(repository, run, suite, input.actor);
    return run;
  }

  /** A suite is completed when all its runs are; its conclusion is the worst of theirs. */
  private async afterRunChanged(
    repository: Repository,
    run: CheckRun,
    suite: CheckSuite,
    actor: string,
  ) {
    const runs = this.state.listCheckRunsOfSuite(suite.id);
    const allDone = runs.every((r) => r.status === 'completed');
    const previous = suite.status;
    suite.status = allDone
      ? 'completed'
      : runs.some((r) => r.status === 'in_progress')
        ? 'in_progress'
        : 'queued';
    suite.updated_at = new Date().toISOString();
    if (allDone) {
      const order: CheckConclusion[] = [
        'action_required',
        'cancelled',
        'timed_out',
        'failure',
        'stale',
        'neutral',
        'skipped',
        'success',
      ];
      suite.conclusion = order.find((c) => runs.some((r) => r.conclusion === c)) ?? 'success';
    }
    this.state.touch();
    if (allDone && previous !== 'completed') {
      this.state.emit(
        { type: 'check_suite', action: 'completed', checkSuite: suite },
        repository,
        actor,
      );
    }
    if (run.status === 'completed') {
      await this.pulls.mergeWhenGreen(repository, run.head_sha, (pull) =>
        this.isGreen(repository, pull),
      );
    }
  }
}
