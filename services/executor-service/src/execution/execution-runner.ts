import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import {
  parseCampaignSpec,
  formatDiagnostic,
  stepEnvironment,
  workspaceTemplateData,
  type CampaignSpec,
  type StepResults,
  type Step,
} from '@campaigns/campaign-spec';
import {
  campaignStream,
  deterministicEventId,
  EVENT_COLUMNS,
  rowToEvent,
  type EventRow,
  executionStream,
  EXECUTION_FAILURE_REASONS,
  ExecutionFailed,
  ExecutionStarted,
  IdempotencyConflictError,
  PatchComputed,
  SpecApplied,
  SecretInEventError,
  SecretRedactor,
  type EventMetadata,
  type ExecutionJob,
  type PostgresEventStore,
} from '@campaigns/events';
import {
  CodeHostResolver,
  parseRepositoryName,
  secretValues,
  type CampaignsConfig,
} from '@campaigns/codehost';
import {
  checkoutWorkspace,
  ensureCommit,
  removeDeadExecutorsContainers,
  runSteps,
  StepContainers,
  type ExecutedStep,
  type NodeStage,
  type StepFailure,
} from '../steps/index.js';
import { StepCache, stepCacheKey, type CachedPatch } from './step-cache.js';

/** Applied specs kept parsed, by applyId: an application's jobs come together. */
const APPLIED_SPECS_CACHED = 64;
const SOURCE = 'executor-service';
const MESSAGE_MAX = 4000;
const STDERR_TAIL_MAX = 8192;

type FailureReason = (typeof EXECUTION_FAILURE_REASONS)[number];

export interface ExecutionRunnerOptions {
  store: PostgresEventStore;
  campaignsConfig: CampaignsConfig;
  /** Values for bare `env: [NAME]` entries (see EXECUTOR_STEP_SECRETS). */
  stepSecrets: Readonly<Record<string, string>>;
  cacheDir: string;
  workDir: string;
  stepTimeoutMs?: number;
  docker?: Docker;
  /** Recorded in ExecutionStarted; defaults to hostname:pid. */
  worker?: string;
  /** Worker slots (jobs that run containers at once), each with its workspace and warm containers. */
  slots?: number;
}

/** How one delivery of a job ended. */
export type ExecutionOutcome =
  /** The execution already had its result: nothing was done. */
  | { kind: 'skipped' }
  | { kind: 'patch'; cached: boolean; eventId: string }
  | { kind: 'failed'; reason: FailureReason; eventId: string }
  /** Another worker recorded a different result first; ours was not stored. */
  | { kind: 'lost-race' }
  /** The job was handed back (the worker stopped past its deadline); nothing was recorded. */
  | { kind: 'abandoned' }
  /**
   * A later delivery started meanwhile (this worker missed its heartbeats, the job went to
   * another one, which removed this attempt's containers): nothing was recorded, and the
   * message must be neither acknowledged nor nak'ed, since it is the newer delivery's now.
   */
  | { kind: 'superseded' };

export interface Delivery {
  /** How many times the job was delivered, this one included. */
  attempt: number;
  /** The ExecutionQueued event's id, when the message names it. */
  queuedEventId?: string | null;
  /** Aborted when the job was handed back to the queue: its result must not be recorded. */
  abandoned?: AbortSignal;
  /**
   * The last delivery the worker will make. Before it, a failure of the infrastructure (the
   * repository could not be fetched, the Docker engine did not answer) is thrown as a
   * `TransientExecutionError` so the job is retried with backoff; on it, it is recorded.
   */
  lastAttempt?: boolean;
}

/** Infrastructure trouble another delivery may not meet; the worker naks the job. */
export class TransientExecutionError extends Error {
  override readonly name = 'TransientExecutionError';
  constructor(
    readonly reason: 'fetch' | 'docker',
    message: string,
  ) {
    super(message);
  }
}

const TRANSIENT_REASONS: ReadonlySet<string> = new Set(['fetch', 'docker']);

/** An internal problem that the next delivery may not have (e.g. the database was away). */
class Failed extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly extra: {
      stepIndex?: number | null;
      exitCode?: number | null;
      stderrTail?: string;
    } = {},
  ) {
    super(message);
  }
}

/**
 * Runs one execution job to its result event (DESIGN.md, "Executor"): level-based and
 * idempotent, so any number of deliveries of the same job record exactly one result.
 */
export class ExecutionRunner {
  readonly #store: PostgresEventStore;
  readonly #resolver: CodeHostResolver;
  readonly #cache: StepCache;
  readonly #docker: Docker;
  readonly #redactor: SecretRedactor;
  readonly #worker: string;
  readonly #applied = new Map<string, AppliedSpec>();
  readonly #slots: Slot[] = [];
  readonly #waiting: ((slot: Slot) => void)[] = [];
  #swept: Promise<void> | null = null;

  constructor(private readonly options: ExecutionRunnerOptions) {
    this.#store = options.store;
    this.#resolver = new CodeHostResolver(options.campaignsConfig);
    this.#cache = new StepCache(options.store.pool);
    this.#docker = options.docker ?? new Docker();
    this.#worker = options.worker ?? `${hostname()}:${process.pid}`;
    this.#redactor = new SecretRedactor([
      ...Object.values(options.stepSecrets),
      ...secretValues(options.campaignsConfig),
    ]);
  }

  async execute(job: ExecutionJob, delivery: Delivery): Promise<ExecutionOutcome> {
    const history = await this.#store.readStream(executionStream(job.executionId));
    if (history.some((e) => e.type === PatchComputed.type || e.type === ExecutionFailed.type)) {
      return { kind: 'skipped' };
    }
    const queuedEventId =
      delivery.queuedEventId ?? history.find((e) => e.type === 'ExecutionQueued')?.event_id ?? null;

    const applied = await this.#appliedSpec(job);
    const metadata: EventMetadata = {
      correlation_id: job.applyId,
      causation_id: queuedEventId,
      actor: applied?.actor ?? SOURCE,
      source: SOURCE,
    };

    // Recorded when work begins; a step-cache hit records its result alone (one event, not two:
    // a re-apply that changed only the template passes thousands of them).
    const started = () =>
      this.#append(
        job,
        deterministicEventId(job.executionId, 'started', String(delivery.attempt)),
        ExecutionStarted.type,
        {
          executionId: job.executionId,
          campaign: job.campaign,
          applyId: job.applyId,
          repository: job.workspace.repository,
          attempt: delivery.attempt,
          worker: this.#worker,
        },
        metadata,
      ).catch((err: unknown) => {
        // The same attempt number recorded by another worker (a redelivery it also saw): fine.
        if (!(err instanceof IdempotencyConflictError)) throw err;
      });

    let result: { type: string; data: unknown; outcome: ExecutionOutcome };
    try {
      if (!applied) {
        await started();
        throw new Failed(
          'internal',
          `the campaign ${job.campaign} has no SpecApplied with applyId ${job.applyId}`,
        );
      }
      result = await this.#run(job, applied, delivery, started);
    } catch (err) {
      if (!(err instanceof Failed)) throw err;
      if (TRANSIENT_REASONS.has(err.reason) && delivery.lastAttempt !== true)
        throw new TransientExecutionError(err.reason as 'fetch' | 'docker', err.message);
      result = this.#failure(job, err.reason, err.message, err.extra);
    }
    if (delivery.abandoned?.aborted) return { kind: 'abandoned' };
    if (await this.#superseded(job, delivery.attempt)) return { kind: 'superseded' };
    const eventId = deterministicEventId(job.executionId, 'result');
    try {
      await this.#append(job, eventId, result.type, result.data, metadata);
    } catch (err) {
      if (err instanceof IdempotencyConflictError) return { kind: 'lost-race' };
      throw err;
    }
    return result.outcome.kind === 'patch' || result.outcome.kind === 'failed'
      ? { ...result.outcome, eventId }
      : result.outcome;
  }

  /** An internal error kept happening: record it as the execution's result. */
  async giveUp(job: ExecutionJob, delivery: Delivery, error: unknown): Promise<ExecutionOutcome> {
    const history = await this.#store.readStream(executionStream(job.executionId));
    if (history.some((e) => e.type === PatchComputed.type || e.type === ExecutionFailed.type)) {
      return { kind: 'skipped' };
    }
    const queued = history.find((e) => e.type === 'ExecutionQueued');
    const result = this.#failure(
      job,
      'internal',
      `the executor failed ${delivery.attempt} times: ${(error as Error).message ?? String(error)}`,
    );
    const eventId = deterministicEventId(job.executionId, 'result');
    try {
      await this.#append(job, eventId, result.type, result.data, {
        correlation_id: job.applyId,
        causation_id: delivery.queuedEventId ?? queued?.event_id ?? null,
        actor: queued?.metadata.actor ?? SOURCE,
        source: SOURCE,
      });
    } catch (err) {
      if (err instanceof IdempotencyConflictError) return { kind: 'lost-race' };
      throw err;
    }
    return { kind: 'failed', reason: 'internal', eventId };
  }

  async #superseded(job: ExecutionJob, attempt: number): Promise<boolean> {
    const events = await this.#store.readStream(executionStream(job.executionId));
    return events.some(
      (e) => e.type === ExecutionStarted.type && (e.data as { attempt: number }).attempt > attempt,
    );
  }

  async #append(
    job: ExecutionJob,
    eventId: string,
    type: string,
    data: unknown,
    metadata: EventMetadata,
  ): Promise<void> {
    await this.#store.append(
      executionStream(job.executionId),
      [{ event_id: eventId, type, data }],
      { expected: 'any', metadata },
    );
  }

  /** The job's SpecApplied, parsed once per applyId (one targeted query on a miss). */
  async #appliedSpec(job: ExecutionJob): Promise<AppliedSpec | null> {
    const cached = this.#applied.get(job.applyId);
    if (cached) {
      this.#applied.delete(job.applyId);
      this.#applied.set(job.applyId, cached);
      return cached;
    }
    const { rows } = await this.#store.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events
        WHERE stream_id = $1 AND type = $2 AND data->>'applyId' = $3
        ORDER BY stream_version LIMIT 1`,
      [campaignStream(job.campaign), SpecApplied.type, job.applyId],
    );
    if (!rows[0]) return null;
    const event = this.#store.upcast(rowToEvent(rows[0]));
    const data = event.data as { specText: string; fileName: string; actor: string };
    const parsed = parseCampaignSpec(data.specText, data.fileName);
    const applied: AppliedSpec = {
      actor: event.metadata.actor ?? data.actor ?? SOURCE,
      spec: parsed.spec ?? null,
      problems: parsed.spec
        ? ''
        : parsed.errors.map((d) => formatDiagnostic(data.fileName, d)).join('; '),
    };
    this.#applied.set(job.applyId, applied);
    if (this.#applied.size > APPLIED_SPECS_CACHED) {
      this.#applied.delete(this.#applied.keys().next().value!);
    }
    return applied;
  }

  async #run(
    job: ExecutionJob,
    applied: AppliedSpec,
    delivery: Delivery,
    started: () => Promise<void>,
  ): Promise<{ type: string; data: unknown; outcome: ExecutionOutcome }> {
    if (!applied.spec) {
      await started();
      throw new Failed('internal', `the applied spec does not parse: ${applied.problems}`);
    }
    const spec = applied.spec;
    const steps: readonly Step[] = spec.steps ?? [];
    const { workspace } = job;
    const templateData = workspaceTemplateData(spec, workspace);
    const secretNames = steps.flatMap((s) =>
      stepEnvironment(s)
        .filter((v) => 'fromSecret' in v)
        .map((v) => v.name),
    );
    const key = stepCacheKey({
      repository: workspace.repository,
      baseRevision: workspace.baseRevision,
      path: workspace.path,
      steps,
      secretNames,
      templateData,
    });
    const hit = await this.#cache.get(key);
    if (hit) return this.#patch(job, hit, true);
    await started();

    if (delivery.attempt > 1) await this.#removeLeftovers(job.executionId);
    const slot = await this.#acquire(job.applyId);
    try {
      await slot.containers.use(job.applyId);
      slot.executionId = job.executionId;
      await emptyDirectory(slot.workspaceDir);
      let baseRevision: string;
      let stage: NodeStage | null;
      try {
        const host = this.#resolver.resolve(workspace.repository);
        const { owner, name } = parseRepositoryName(workspace.repository);
        const stored = await ensureCommit({
          url: `${host.url}/${owner}/${name}.git`,
          repository: workspace.repository,
          revision: workspace.baseRevision,
          cacheDir: this.options.cacheDir,
          token: host.token.reveal(),
        });
        stage = await checkoutWorkspace(stored, slot.workspaceDir);
        baseRevision = stored.baseRevision;
      } catch (err) {
        throw new Failed(
          'fetch',
          `cannot fetch ${workspace.repository} at ${workspace.baseRevision}: ${(err as Error).message}`,
        );
      }
      const run = await runSteps({
        workspaceDir: slot.workspaceDir,
        baseRevision,
        path: workspace.path,
        steps,
        secrets: this.options.stepSecrets,
        templateData,
        ...(this.options.stepTimeoutMs ? { timeoutMs: this.options.stepTimeoutMs } : {}),
        docker: this.#docker,
        containers: slot.containers,
        stage,
      });
      if (!run.ok && run.failure.reason === 'docker')
        throw new Failed('docker', run.failure.message, run.failure);
      if (!run.ok) return this.#failure(job, run.failure.reason, run.failure.message, run.failure);
      if (this.#redactor.occursIn(run.diff)) {
        throw new Failed(
          'internal',
          'the steps wrote a secret value into the repository; the diff was not stored',
        );
      }
      const results: StepResults = {
        files: run.files,
        fileDiffs: run.fileDiffs,
        outputs: this.#redactor.value(run.outputs),
        steps: run.steps.map((s) => ({
          stepIndex: s.stepIndex,
          skipped: s.skipped,
          stdout: this.#redactor.text(s.stdout),
          stderr: this.#redactor.text(s.stderr),
          files: s.files,
        })),
      };
      let patch: CachedPatch;
      try {
        patch = {
          empty: run.empty,
          diff: run.empty ? null : await this.#store.putBlob(run.diff),
          results: await this.#store.putBlob(JSON.stringify(results)),
          files: copyFiles(run.files),
          steps: run.steps.map(stepSummary),
          ...(run.tree
            ? { tree: { sha: run.tree.sha, objects: await this.#store.putBlob(run.tree.pack) } }
            : {}),
        };
      } catch (err) {
        if (err instanceof SecretInEventError) {
          throw new Failed('internal', 'the steps produced a secret value; nothing was stored');
        }
        throw err;
      }
      await this.#cache.put(key, patch);
      return this.#patch(job, patch, false);
    } finally {
      slot.executionId = null;
      await emptyDirectory(slot.workspaceDir).catch(() => undefined);
      this.#release(slot);
    }
  }

  /** A free slot, preferring one whose warm containers already work for this application. */
  async #acquire(application: string): Promise<Slot> {
    this.#swept ??= this.#sweep();
    await this.#swept;
    const free = this.#slots.filter((s) => !s.busy);
    let slot =
      free.find((s) => s.containers.application === application) ??
      free.find((s) => s.containers.application === null) ??
      free[0];
    if (!slot && this.#slots.length < (this.options.slots ?? 1)) {
      await mkdir(this.options.workDir, { recursive: true });
      const dir = await mkdtemp(join(this.options.workDir, `${SLOT_PREFIX}${process.pid}-`));
      const workspaceDir = join(dir, 'repo');
      await mkdir(workspaceDir);
      slot = {
        dir,
        workspaceDir,
        busy: false,
        executionId: null,
        containers: new StepContainers({
          docker: this.#docker,
          workspaceDir,
          ...(process.getuid && process.getgid
            ? { user: `${process.getuid()}:${process.getgid()}` }
            : {}),
        }),
      };
      this.#slots.push(slot);
    }
    if (!slot) slot = await new Promise<Slot>((resolve) => this.#waiting.push(resolve));
    slot.busy = true;
    return slot;
  }

  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /** What dead executors on this host left: warm containers, memory files, slot directories. */
  async #sweep(): Promise<void> {
    await removeDeadExecutorsContainers(this.#docker);
    for (const name of await readdir(this.options.workDir).catch(() => [] as string[])) {
      const pid = Number(/^(\d+)-/.exec(name.slice(SLOT_PREFIX.length))?.[1] ?? NaN);
      if (name.startsWith(SLOT_PREFIX) && Number.isInteger(pid) && !processAlive(pid)) {
        await rm(join(this.options.workDir, name), REMOVE);
      }
    }
  }

  /** Removes every warm container and slot directory; call once no job runs any more. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        await slot.containers.removeAll();
        await rm(slot.dir, REMOVE);
      }),
    );
  }

  #patch(
    job: ExecutionJob,
    patch: CachedPatch,
    cached: boolean,
  ): { type: string; data: unknown; outcome: ExecutionOutcome } {
    return {
      type: PatchComputed.type,
      data: {
        executionId: job.executionId,
        campaign: job.campaign,
        applyId: job.applyId,
        workspace: job.workspace,
        empty: patch.empty,
        diff: patch.empty ? null : patch.diff,
        results: patch.results,
        files: patch.files,
        steps: patch.steps,
        cached,
        ...(patch.tree && !patch.empty ? { tree: patch.tree } : {}),
      },
      outcome: { kind: 'patch', cached, eventId: '' },
    };
  }

  #failure(
    job: ExecutionJob,
    reason: FailureReason,
    message: string,
    extra: Pick<StepFailure, 'exitCode' | 'stderrTail'> & { stepIndex?: number | null } = {},
  ): { type: string; data: unknown; outcome: ExecutionOutcome } {
    const tail = this.#redactor.text(extra.stderrTail ?? '');
    return {
      type: ExecutionFailed.type,
      data: {
        executionId: job.executionId,
        campaign: job.campaign,
        applyId: job.applyId,
        repository: job.workspace.repository,
        path: job.workspace.path,
        reason,
        stepIndex: extra.stepIndex ?? null,
        exitCode: extra.exitCode ?? null,
        message: truncate(this.#redactor.text(message), MESSAGE_MAX),
        stderrTail: tail.length > STDERR_TAIL_MAX ? tail.slice(-STDERR_TAIL_MAX) : tail,
      },
      outcome: { kind: 'failed', reason, eventId: '' },
    };
  }

  /**
   * Containers an earlier attempt of this execution may still run in: this process's slot that
   * still works on it (a missed heartbeat), and whatever dead executors on this host left.
   */
  async #removeLeftovers(executionId: string): Promise<void> {
    await Promise.all(
      this.#slots
        .filter((slot) => slot.executionId === executionId)
        .map((slot) => slot.containers.removeAll()),
    );
    await removeDeadExecutorsContainers(this.#docker);
  }
}

const SLOT_PREFIX = `slot-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

interface Slot {
  readonly dir: string;
  /** Mounted at /work in the slot's containers: emptied between jobs, never replaced. */
  readonly workspaceDir: string;
  readonly containers: StepContainers;
  busy: boolean;
  /** The execution running in the slot now. */
  executionId: string | null;
}

interface AppliedSpec {
  readonly actor: string;
  readonly spec: CampaignSpec | null;
  /** Why the spec does not parse. */
  readonly problems: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removal that outlasts a process still writing into the tree (a git process of a job abandoned
 * at a stop deadline): a directory that gains an entry while it is emptied fails with ENOTEMPTY,
 * which `rm` retries a few times.
 */
const REMOVE = { recursive: true, force: true, maxRetries: 10, retryDelay: 20 } as const;

async function emptyDirectory(dir: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(names.map((name) => rm(join(dir, name), REMOVE)));
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function copyFiles(files: {
  modified: readonly string[];
  added: readonly string[];
  deleted: readonly string[];
  renamed: readonly string[];
}): CachedPatch['files'] {
  return {
    modified: [...files.modified],
    added: [...files.added],
    deleted: [...files.deleted],
    renamed: [...files.renamed],
  };
}

function stepSummary(s: ExecutedStep): CachedPatch['steps'][number] {
  return {
    stepIndex: s.stepIndex,
    skipped: s.skipped,
    exitCode: s.exitCode,
    durationMs: s.durationMs,
  };
}
