import { hostname } from 'node:os';
import Docker from 'dockerode';
import { stepEnvironment, workspaceTemplateData, type Step } from '@campaigns/campaign-spec';
import {
  deterministicEventId,
  executionStream,
  ExecutionStarted,
  IdempotencyConflictError,
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
import type { DataSource } from 'typeorm';
import { checkoutWorkspace, ensureCommit, runSteps, type NodeStage } from '../steps/index.js';
import { AppliedSpecs, type AppliedSpec } from './applied-specs.js';
import { checkoutScope } from './checkout-scope.js';
import {
  ExecutionFailure,
  executionFailed,
  hasResult,
  patchComputed,
  patchSummary,
  redactedResults,
  retryInstead,
  storableRun,
  supersededBy,
  type Delivery,
  type ExecutionOutcome,
  type ResultEvent,
} from './execution-outcome.js';
import { StepCacheEntry } from './step-cache.entity.js';
import { StepCache, stepCacheKey, type CachedPatch } from './step-cache.js';
import { WorkerSlots } from './worker-slots.js';

export {
  TransientExecutionError,
  type Delivery,
  type ExecutionOutcome,
} from './execution-outcome.js';

const SOURCE = 'executor-service';

export interface ExecutionRunnerOptions {
  store: PostgresEventStore;
  /** The service's DataSource: the step cache is one of its tables. */
  database: DataSource;
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
  readonly #applied: AppliedSpecs;
  readonly #slots: WorkerSlots;

  constructor(private readonly options: ExecutionRunnerOptions) {
    this.#store = options.store;
    this.#resolver = new CodeHostResolver(options.campaignsConfig);
    this.#cache = new StepCache(options.database.getRepository(StepCacheEntry));
    this.#docker = options.docker ?? new Docker();
    this.#worker = options.worker ?? `${hostname()}:${process.pid}`;
    this.#redactor = new SecretRedactor([
      ...Object.values(options.stepSecrets),
      ...secretValues(options.campaignsConfig),
    ]);
    this.#applied = new AppliedSpecs(options.store, SOURCE);
    this.#slots = new WorkerSlots({
      docker: this.#docker,
      workDir: options.workDir,
      slots: options.slots ?? 1,
    });
  }

  async execute(job: ExecutionJob, delivery: Delivery): Promise<ExecutionOutcome> {
    const history = await this.#store.readStream(executionStream(job.executionId));
    if (hasResult(history)) return { kind: 'skipped' };
    const queuedEventId =
      delivery.queuedEventId ?? history.find((e) => e.type === 'ExecutionQueued')?.event_id ?? null;

    const applied = await this.#applied.of(job);
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

    let result: ResultEvent;
    try {
      if (!applied) {
        await started();
        throw new ExecutionFailure(
          'internal',
          `the campaign ${job.campaign} has no SpecApplied with applyId ${job.applyId}`,
        );
      }
      result = await this.#run(job, applied, delivery, started);
    } catch (err) {
      if (!(err instanceof ExecutionFailure)) throw err;
      const retry = retryInstead(err, delivery);
      if (retry) throw retry;
      result = executionFailed(job, err, this.#redactor);
    }
    if (delivery.abandoned?.aborted) return { kind: 'abandoned' };
    const latest = await this.#store.readStream(executionStream(job.executionId));
    if (supersededBy(latest, delivery.attempt)) return { kind: 'superseded' };
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
    if (hasResult(history)) return { kind: 'skipped' };
    const queued = history.find((e) => e.type === 'ExecutionQueued');
    const result = executionFailed(
      job,
      {
        reason: 'internal',
        message: `the executor failed ${delivery.attempt} times: ${(error as Error).message ?? String(error)}`,
        detail: {},
      },
      this.#redactor,
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

  async #run(
    job: ExecutionJob,
    applied: AppliedSpec,
    delivery: Delivery,
    started: () => Promise<void>,
  ): Promise<ResultEvent> {
    if (!applied.spec) {
      await started();
      throw new ExecutionFailure(
        'internal',
        `the applied spec does not parse: ${applied.problems}`,
      );
    }
    const spec = applied.spec;
    const steps: readonly Step[] = spec.steps ?? [];
    const { workspace } = job;
    const templateData = workspaceTemplateData(spec, workspace);
    const scope = checkoutScope(spec, workspace);
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
      onlyWorkspace: scope !== null,
    });
    const hit = await this.#cache.get(key);
    if (hit) return patchComputed(job, hit, true);
    await started();

    if (delivery.attempt > 1) await this.#slots.removeLeftovers(job.executionId);
    const slot = await this.#slots.acquire(job.applyId);
    try {
      await this.#slots.prepare(slot, job.applyId, job.executionId);
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
        stage = await checkoutWorkspace(stored, slot.workspaceDir, scope);
        baseRevision = stored.baseRevision;
      } catch (err) {
        throw new ExecutionFailure(
          'fetch',
          `cannot fetch ${workspace.repository} at ${workspace.baseRevision}: ${(err as Error).message}`,
        );
      }
      const ran = await runSteps({
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
      const run = storableRun(ran, this.#redactor);
      const results = redactedResults(run, this.#redactor);
      let patch: CachedPatch;
      try {
        patch = {
          empty: run.empty,
          diff: run.empty ? null : await this.#store.putBlob(run.diff),
          results: await this.#store.putBlob(JSON.stringify(results)),
          ...patchSummary(run),
          ...(run.tree
            ? { tree: { sha: run.tree.sha, objects: await this.#store.putBlob(run.tree.pack) } }
            : {}),
        };
      } catch (err) {
        if (err instanceof SecretInEventError) {
          throw new ExecutionFailure(
            'internal',
            'the steps produced a secret value; nothing was stored',
          );
        }
        throw err;
      }
      await this.#cache.put(key, patch);
      return patchComputed(job, patch, false);
    } finally {
      await this.#slots.release(slot);
    }
  }

  /** Removes every warm container and slot directory; call once no job runs any more. */
  async close(): Promise<void> {
    await this.#slots.close();
  }
}
