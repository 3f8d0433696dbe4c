import { randomUUID } from 'node:crypto';
import { CodeHostError, type CodeHost, type CodeHosts } from '@campaigns/codehost';
import {
  bulkStream,
  changesetStream,
  deterministicEventId,
  LoopComponent,
  silentLogger,
  sleep,
  type BulkOperationKind,
  type EventMetadata,
  type EventsLogger,
  type NewEvent,
  type PostgresEventStore,
} from '@campaigns/events';
import type { DataSource } from 'typeorm';
import type { ChangesetRow } from '../changeset/changeset-row.js';
import { loadChangesetRow, loadRecordedSpec } from '../projection/changeset-store.js';
import { decideBulkJob, type BulkJobDecision } from './bulk-job-decision.js';
import { admitEverything, type ContentPacer } from './content-pacer.js';

export interface BulkProcessorOptions {
  /** The service's DataSource: its connections search the schema of the bulk and changeset tables. */
  database: DataSource;
  store: PostgresEventStore;
  codeHosts: CodeHosts;
  /** Paces code host writes; default: every write at once. */
  pacer?: ContentPacer;
  /** Jobs carried out at once (default 8). */
  concurrency?: number;
  /** Wait between polls of an empty queue (default 250 ms). */
  pollMs?: number;
  /** How long a claim lasts before another processor may take the job (default 2 min). */
  leaseMs?: number;
  logger?: EventsLogger;
  workerId?: string;
  /** Called after a code host write and before its result is recorded (tests simulate crashes here). */
  afterHostWrite?: (job: { operationId: string; changesetId: string }) => Promise<void>;
}

/** A claimed job with its operation. */
interface Job {
  operationId: string;
  changesetId: string;
  repository: string;
  headBranch: string;
  started: boolean;
  attempts: number;
  campaign: string;
  operation: BulkOperationKind;
  message: string | null;
  method: 'merge' | 'squash' | 'rebase' | null;
  actor: string;
}

type Write = Extract<BulkJobDecision, { kind: 'comment' | 'merge' | 'close' }>;
type Result = 'done' | 'skipped' | 'failed';

/** Tries of a job whose write failed retryably, before its result is failed. */
const MAX_ATTEMPTS = 5;

/**
 * The bulk operation processor (Sourcegraph's changeset jobs): claims due jobs from `bulk_jobs`
 * (filled by bulkJobsProjection), decides each from the reconciler's projected changeset
 * (decideBulkJob), writes to the code host through the CodeHost port when it must, paced by
 * the ContentPacer, and records the changeset's result in the operation's stream, with any
 * event for the changeset's own stream in the same transaction (a close, a retry, a publish).
 *
 * Idempotent: a result's event id is made from the operation and the changeset, so recording it
 * twice records once; a job is marked started before its write, and a comment found started
 * after a crash is not posted again (at most once), its result saying so.
 */
export class BulkProcessor extends LoopComponent {
  readonly name = 'bulk-processor';
  private readonly workerId: string;
  private readonly pacer: ContentPacer;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly logger: EventsLogger;

  constructor(private readonly options: BulkProcessorOptions) {
    super();
    this.workerId = options.workerId ?? `bulk-${randomUUID()}`;
    this.pacer = options.pacer ?? admitEverything;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.logger = options.logger ?? silentLogger;
  }

  protected async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let jobs: Job[] = [];
      try {
        jobs = await this.claim(this.concurrency);
      } catch (error) {
        this.logger.error({ err: (error as Error).message }, 'claiming bulk jobs failed');
      }
      await Promise.all(jobs.map((job) => this.process(job)));
      if (jobs.length === 0) await sleep(this.pollMs, signal);
    }
  }

  /** Claims up to `limit` due jobs, earliest first, with a lease from the database's clock. */
  private async claim(limit: number): Promise<Job[]> {
    // Raw: a locking CTE and an UPDATE that joins the operation; its rows come from a SELECT
    // over the UPDATE's RETURNING, since TypeORM answers a bare UPDATE with a row count too.
    const rows: Record<string, unknown>[] = await this.options.database.query(
      `WITH due AS (
         SELECT operation_id, changeset_id FROM bulk_jobs
          WHERE NOT finished AND due_at <= now()
            AND (lease_expires_at IS NULL OR lease_expires_at < now())
          ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE bulk_jobs j
            SET leased_by = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
           FROM due
          WHERE j.operation_id = due.operation_id AND j.changeset_id = due.changeset_id
         RETURNING j.operation_id, j.changeset_id, j.repository, j.head_branch, j.started, j.attempts)
       SELECT c.*, o.campaign, o.operation, o.message, o.method, o.actor
         FROM claimed c JOIN bulk_operations o USING (operation_id)`,
      [this.workerId, this.leaseMs, limit],
    );
    return rows.map((r) => ({
      operationId: r['operation_id'] as string,
      changesetId: r['changeset_id'] as string,
      repository: r['repository'] as string,
      headBranch: r['head_branch'] as string,
      started: r['started'] as boolean,
      attempts: r['attempts'] as number,
      campaign: r['campaign'] as string,
      operation: r['operation'] as BulkOperationKind,
      message: r['message'] as string | null,
      method: r['method'] as Job['method'],
      actor: r['actor'] as string,
    }));
  }

  private async process(job: Job): Promise<void> {
    try {
      const manager = this.options.database.manager;
      const row = await loadChangesetRow(manager, job.changesetId);
      const desired = await loadRecordedSpec(manager, row?.desiredSpecEventId ?? null);
      const decision = decideBulkJob(job.operation, {
        row,
        published: desired?.spec?.published ?? null,
      });
      switch (decision.kind) {
        case 'skip':
          return await this.finish(job, row, 'skipped', decision.message);
        case 'request':
          return await this.finish(job, row, 'done', decision.message, {
            type: 'ChangesetActionRequested',
            data: {
              ...identityOf(job),
              action: decision.action,
              bulkOperationId: job.operationId,
            },
          });
        default:
          return await this.write(job, row!, decision);
      }
    } catch (error) {
      // The database or the store failed: the job stays, and is tried again after a while.
      this.logger.warn(
        {
          operation_id: job.operationId,
          changeset_id: job.changesetId,
          err: (error as Error).message,
        },
        'bulk job failed; it is tried again',
      );
      await this.later(
        job,
        new Date(Date.now() + retryDelayMs(job.attempts + 1)),
        job.attempts + 1,
      ).catch((err: unknown) =>
        this.logger.error({ err: (err as Error).message }, 'giving a bulk job back failed'),
      );
    }
  }

  /** A code host write, paced; a retryable failure is tried again, a terminal one recorded. */
  private async write(job: Job, row: ChangesetRow, decision: Write): Promise<void> {
    let host: CodeHost;
    try {
      host = this.options.codeHosts.forRepository(job.repository, job.campaign);
    } catch {
      return this.finish(
        job,
        row,
        'failed',
        `no configured code host serves ${job.repository}; add it to the CAMPAIGNS_CONFIG file`,
      );
    }
    if (job.started && decision.kind === 'comment')
      return this.finish(
        job,
        row,
        'failed',
        'interrupted while commenting: it may have been posted, so it is not posted again; look at the pull request',
      );
    const pace = await this.pacer.admit({
      hostId: host.id,
      campaign: job.campaign,
      changesetId: job.changesetId,
    });
    if (!pace.admitted) return this.later(job, pace.at, job.attempts);
    try {
      await this.markStarted(job, true);
      return await this.writeAdmitted(job, row, host, decision);
    } finally {
      // The write counts against the host's budget from when it is over.
      await pace.done?.();
    }
  }

  /** The write itself, once admitted and marked started. */
  private async writeAdmitted(
    job: Job,
    row: ChangesetRow,
    host: CodeHost,
    decision: Write,
  ): Promise<void> {
    const ref = { repo: job.repository, number: decision.number };
    let message: string;
    let closed: NewEvent | undefined;
    try {
      switch (decision.kind) {
        case 'comment': {
          const comment = await host.comment({ ...ref, body: job.message ?? '' });
          message = `commented: ${comment.url}`;
          break;
        }
        case 'merge': {
          const method = job.method ?? 'merge';
          // Only the head the campaign knows: a push since then is not merged unseen.
          const merged = await host.mergeChangeset({
            ...ref,
            method,
            ...(row.headRefOid === null ? {} : { expectedHeadSha: row.headRefOid }),
          });
          message = `merged (${method}) as ${merged.sha.slice(0, 12)}`;
          break;
        }
        case 'close': {
          const pr = await host.closeChangeset(ref);
          message = 'closed; kept closed until its spec changes';
          closed = {
            type: 'ChangesetClosed',
            data: {
              ...identityOf(job),
              specEventId: row.desiredSpecEventId,
              number: pr.number,
              url: pr.url,
              reason: `closed by bulk operation ${job.operationId} (${job.actor})`,
              bulkOperationId: job.operationId,
            },
          };
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof CodeHostError)) throw error;
      const attempt = job.attempts + 1;
      if (error.kind !== 'terminal' && attempt < MAX_ATTEMPTS) {
        // The host answered with an error: it did not act, so the write may be tried again.
        await this.markStarted(job, false);
        const wait = error.retryAfterMs ?? retryDelayMs(attempt);
        return this.later(job, new Date(Date.now() + wait), attempt);
      }
      return this.finish(job, row, 'failed', error.message);
    }
    await this.options.afterHostWrite?.(job);
    return this.finish(job, row, 'done', message, closed);
  }

  /**
   * Records the job's result in the operation's stream and, in the same transaction, the event
   * for the changeset's stream; then the job is finished.
   */
  private async finish(
    job: Job,
    row: ChangesetRow | null,
    result: Result,
    message: string,
    changesetEvent?: NewEvent,
  ): Promise<void> {
    const { store } = this.options;
    const metadata: EventMetadata = {
      correlation_id: job.operationId,
      causation_id: null,
      actor: job.actor,
      source: 'reconciler-service',
    };
    const client = await store.pool.connect();
    try {
      await client.query('BEGIN');
      if (changesetEvent !== undefined)
        await store.append(
          changesetStream(job.changesetId),
          [
            {
              ...changesetEvent,
              event_id: deterministicEventId(job.operationId, job.changesetId, 'changeset'),
            },
          ],
          { expected: 'any', metadata },
          client,
        );
      await store.append(
        bulkStream(job.operationId),
        [
          {
            event_id: deterministicEventId(job.operationId, job.changesetId, 'processed'),
            type: 'BulkChangesetProcessed',
            data: {
              operationId: job.operationId,
              campaign: job.campaign,
              changesetId: job.changesetId,
              repository: job.repository,
              headBranch: job.headBranch,
              number: row?.number ?? null,
              result,
              message: message.slice(0, 4000),
            },
          },
        ],
        { expected: 'any', metadata },
        client,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    await this.options.database.query(
      `UPDATE bulk_jobs SET finished = true, leased_by = NULL, lease_expires_at = NULL
        WHERE operation_id = $1 AND changeset_id = $2`,
      [job.operationId, job.changesetId],
    );
    this.logger.info(
      { operation_id: job.operationId, changeset_id: job.changesetId, result },
      'bulk job finished',
    );
  }

  /** Gives the job back, due at `at`. */
  private async later(job: Job, at: Date, attempts: number): Promise<void> {
    await this.options.database.query(
      `UPDATE bulk_jobs SET due_at = $3, attempts = $4, leased_by = NULL, lease_expires_at = NULL
        WHERE operation_id = $1 AND changeset_id = $2 AND leased_by = $5`,
      [job.operationId, job.changesetId, at, attempts, this.workerId],
    );
  }

  private async markStarted(job: Job, started: boolean): Promise<void> {
    await this.options.database.query(
      `UPDATE bulk_jobs SET started = $3 WHERE operation_id = $1 AND changeset_id = $2`,
      [job.operationId, job.changesetId, started],
    );
  }
}

function identityOf(job: Job) {
  return {
    changesetId: job.changesetId,
    campaign: job.campaign,
    repository: job.repository,
    headBranch: job.headBranch,
  };
}

/** 2 s, 4 s, 8 s … up to a minute. */
function retryDelayMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** attempt);
}
