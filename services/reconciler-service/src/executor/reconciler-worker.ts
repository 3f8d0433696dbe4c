import { randomUUID } from 'node:crypto';
import {
  appendObjectToPack,
  CodeHostError,
  CodeHostResolver,
  commitObject,
  PackFileError,
  parseRepositoryName,
  type CampaignsConfig,
  type Changeset,
  type ChangesetObservation,
  type CodeHost,
  type CodeHosts,
} from '@campaigns/codehost';
import {
  changesetStream,
  ConcurrencyError,
  silentLogger,
  sleep,
  type EventMetadata,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import type pg from 'pg';
import { Counter, Registry } from 'prom-client';
import {
  CHANGESET_PROJECTION,
  loadChangesetRow,
  loadRecordedSpecs,
  toBranchSpec,
  type ChangesetRow,
  type RecordedSpec,
} from '../projection/changeset-projection.js';
import {
  planChangesetOperations,
  type BranchChangesetSpec,
  type ChangesetState,
  type Operation,
} from '../planner/index.js';
import {
  ChangesetReadBatcher,
  type ChangesetReadBatcherOptions,
} from './changeset-read-batcher.js';
import { buildCommit } from './commit-builder.js';
import { specCommitFields } from './spec-commit.js';
import { OBSERVED_STATE, observationDiffers, syncObservation } from './sync-observation.js';

export interface ReconcilerWorkerOptions {
  pool: pg.Pool;
  store: PostgresEventStore;
  /** The service's schema, where the changeset projection lives. */
  schema: string;
  codeHosts: CodeHosts;
  config: CampaignsConfig;
  /** Lanes: changesets reconciled at once, each lane taking the next due one when it is free (default 16). */
  concurrency?: number;
  /** How the rounds' reads of the code host are gathered into batched queries. */
  reads?: ChangesetReadBatcherOptions;
  /** Wait between polls of an empty queue (default 250 ms). */
  pollMs?: number;
  /** How long a claim lasts before another worker may take the changeset (default 2 min). */
  leaseMs?: number;
  logger?: EventsLogger;
  workerId?: string;
  /** Called after each code host write and before its event is appended (tests simulate crashes here). */
  afterHostWrite?: (changesetId: string, operation: string) => Promise<void>;
  /** Where `campaigns_reconciler_operations_total` is registered (served at /metrics). */
  registry?: Registry;
}

/** Backoff of retryable failures: 1 s · 2^(attempt-1), at most 5 minutes; a retry-after wins. */
export function retryDelayMs(attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.ceil(retryAfterMs);
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
}

/** Lanes of a worker when RECONCILER_CONCURRENCY does not say (see the README for the measurement). */
export const DEFAULT_CONCURRENCY = 64;

interface Claim {
  id: string;
  dueVersion: bigint;
}

/** The round was overtaken (a new spec or another worker appended first): stop, leave it due. */
class RoundAborted extends Error {}

interface Round {
  changesetId: string;
  claimedDueVersion: bigint;
  stream: string;
  row: ChangesetRow;
  desired: RecordedSpec;
  /** The spec reconciled last, the planner's `previousSpec`. */
  previous: RecordedSpec | null;
  spec: BranchChangesetSpec | null;
  /** Null when no configured code host serves the repository (a terminal failure). */
  host: CodeHost | null;
  expected: bigint;
  metadata: EventMetadata;
  operations: string[];
  /**
   * The plan asked to read the changeset back (after a push, for its new head and checks). A
   * write's own answer is the host's view otherwise: no read after publish, update, close.
   */
  readBack: boolean;
  appended: boolean;
  /**
   * An operation's event, held until the round's next append or next code host write, so the
   * last operation and `ChangesetReconciled` are one append (one transaction for the store, the
   * relay and every consumer) instead of two.
   */
  pending: { type: string; data: Record<string, unknown> }[];
  /** Stop after this round: failed or aborted. */
  done: boolean;
  /** Failed unexpectedly: keep the claim, so the changeset is retried once the lease expires. */
  keepLease: boolean;
  /** Overtaken by another writer: release without dequeuing. */
  overtaken: boolean;
}

/**
 * Claims due changesets from the reconcile queue, plans them and carries out the plan on the
 * code host, appending one event per operation right after it succeeded.
 */
export class ReconcilerWorker {
  readonly name = 'reconciler-worker';
  private readonly workerId: string;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly logger: EventsLogger;
  private readonly resolver: CodeHostResolver;
  private readonly reads: ChangesetReadBatcher;
  private readonly abort = new AbortController();
  /** Changesets this worker holds a claim on, renewed together while their rounds run. */
  private readonly held = new Set<string>();
  /** Rounds that may still read their changeset before acting: the read batch waits for them. */
  private roundsBeforeRead = 0;
  private loop?: Promise<void>;
  private started = false;
  private readonly operations: Counter;

  constructor(private readonly options: ReconcilerWorkerOptions) {
    const registry = options.registry ?? new Registry();
    this.operations =
      (registry.getSingleMetric('campaigns_reconciler_operations_total') as Counter | undefined) ??
      new Counter({
        name: 'campaigns_reconciler_operations_total',
        help: 'Code host operations the reconciler performed, by operation and outcome',
        labelNames: ['operation', 'outcome'],
        registers: [registry],
      });
    this.workerId = options.workerId ?? `reconciler-${randomUUID()}`;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.logger = options.logger ?? silentLogger;
    this.resolver = new CodeHostResolver(options.config);
    this.reads = new ChangesetReadBatcher({
      readsToCome: () => this.roundsBeforeRead,
      ...options.reads,
    });
  }

  start(): Promise<void> {
    this.started = true;
    this.loop = this.run();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  ready(): boolean {
    return this.started && !this.abort.signal.aborted;
  }

  /**
   * `concurrency` lanes: whenever lanes are free, claim that many due changesets in one query and
   * start a round in each; a slow round holds only its own lane. An empty queue is polled every
   * `pollMs`; with every lane busy, the next claim waits for a lane to be given back.
   */
  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const rounds = new Set<Promise<void>>();
    let busy = 0;
    let laneFreed: () => void = () => undefined;
    const takeLane = () => {
      busy++;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        busy--;
        laneFreed();
      };
    };
    // Keep the claims while this process lives; a killed one's expire after leaseMs.
    const renewal = setInterval(
      () => void this.renew([...this.held]),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      while (!signal.aborted) {
        const free = this.concurrency - busy;
        let claimed: Claim[] = [];
        if (free > 0) {
          try {
            claimed = await this.claim(free);
          } catch (error) {
            this.logger.error({ err: (error as Error).message }, 'claiming changesets failed');
          }
        }
        for (const claim of claimed) {
          const releaseLane = takeLane();
          const round = this.reconcile(claim, releaseLane).finally(() => {
            releaseLane();
            rounds.delete(round);
          });
          rounds.add(round);
        }
        // Fewer due than free lanes: the queue is drained for now, poll it again later. Otherwise
        // claim again at once if lanes were given back meanwhile, or wait for the next one.
        if (claimed.length < free) await sleep(this.pollMs, signal);
        else if (busy >= this.concurrency)
          await new Promise<void>((resolve) => (laneFreed = resolve));
      }
    } finally {
      await Promise.all(rounds);
      clearInterval(renewal);
    }
  }

  /**
   * One changeset's round: read, plan and act, read again when the plan says so (after a push),
   * record. Once its code host writes are done, the round gives its lane back while its re-read
   * waits for a batch.
   */
  private async reconcile(claim: Claim, releaseLane: () => void): Promise<void> {
    this.held.add(claim.id);
    this.roundsBeforeRead++;
    let beforeRead = true;
    const pastRead = () => {
      if (!beforeRead) return;
      beforeRead = false;
      this.roundsBeforeRead--;
    };
    try {
      const r = await this.prepare(claim.id, claim.dueVersion);
      // Read what the code host shows now, so a merge or a close the webhooks missed is known
      // before anything is written.
      if (r !== null && r.row.number !== null) await this.sync(r, pastRead);
      pastRead();
      this.reads.settle();
      if (r === null) return;
      await this.execute(r);
      releaseLane();
      if (!r.done && r.readBack && r.row.number !== null) await this.sync(r);
      await this.finish(r);
    } catch (error) {
      // The claim is kept: the changeset is retried once its lease expires.
      this.logger.error(
        { changeset_id: claim.id, err: (error as Error).message },
        'reconcile round failed',
      );
    } finally {
      pastRead();
      this.held.delete(claim.id);
    }
  }

  private async renew(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.options.pool
      .query(
        `UPDATE ${this.q()} SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE changeset_id = ANY ($1::text[]) AND leased_by = $2`,
        [ids, this.workerId, this.leaseMs],
      )
      .catch((error: unknown) =>
        this.logger.warn({ err: (error as Error).message }, 'lease renewal failed'),
      );
  }

  private q(): string {
    return `${this.options.schema}.reconcile_queue`;
  }

  private async claim(limit: number): Promise<Claim[]> {
    const { schema } = this.options;
    const { rows } = await this.options.pool.query<{ changeset_id: string; due_version: string }>(
      `UPDATE ${this.q()} q SET leased_by = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE q.changeset_id IN (
          SELECT w.changeset_id FROM ${this.q()} w
            JOIN ${schema}.projection_checkpoints c
              ON c.projection = $4 AND c.stream_id = 'changeset-' || w.changeset_id
           WHERE w.due_at <= now()
             AND (w.lease_expires_at IS NULL OR w.lease_expires_at < now())
             AND c.stream_version >= GREATEST(w.due_version, w.wait_version)
           ORDER BY w.due_at LIMIT $3
           FOR UPDATE OF w SKIP LOCKED)
        RETURNING q.changeset_id, q.due_version`,
      [this.workerId, this.leaseMs, limit, CHANGESET_PROJECTION],
    );
    return rows.map((r) => ({ id: r.changeset_id, dueVersion: BigInt(r.due_version) }));
  }

  private async release(
    changesetId: string,
    dueVersion: bigint,
    waitVersion: bigint,
    done: boolean,
  ) {
    // One statement: done and not due again → the row goes; otherwise the lease is given back.
    await this.options.pool.query(
      `WITH gone AS (
         DELETE FROM ${this.q()}
          WHERE $5::boolean AND changeset_id = $1 AND leased_by = $2 AND due_version <= $3
         RETURNING changeset_id)
       UPDATE ${this.q()} SET leased_by = NULL, lease_expires_at = NULL,
              wait_version = GREATEST(wait_version, $4)
        WHERE changeset_id = $1 AND leased_by = $2
          AND NOT EXISTS (SELECT 1 FROM gone)`,
      [changesetId, this.workerId, dueVersion.toString(), waitVersion.toString(), done],
    );
  }

  private async prepare(changesetId: string, dueVersion: bigint): Promise<Round | null> {
    const { pool, store, schema } = this.options;
    const stream = changesetStream(changesetId);
    const row = await loadChangesetRow(pool, schema, changesetId);
    const storeVersion = (await store.streamVersion(stream)) ?? 0n;
    if (row === null || storeVersion > row.streamVersion) {
      // The projection has not applied everything yet (e.g. our own last events): come back.
      await this.release(changesetId, dueVersion, storeVersion, false);
      return null;
    }
    // The desired spec and the one reconciled before it, in one read.
    const specs = await loadRecordedSpecs(
      pool,
      schema,
      [row.desiredSpecEventId, row.previousSpecEventId].filter((id): id is string => id !== null),
    );
    const desired =
      row.desiredSpecEventId === null ? null : (specs.get(row.desiredSpecEventId) ?? null);
    if (desired === null || row.terminalSpecEventId === desired.specEventId) {
      await this.release(changesetId, dueVersion, storeVersion, true);
      return null;
    }
    return {
      changesetId,
      claimedDueVersion: dueVersion,
      stream,
      row: { ...row },
      desired,
      previous:
        row.previousSpecEventId === null ? null : (specs.get(row.previousSpecEventId) ?? null),
      spec: toBranchSpec(desired),
      host: this.hostFor(row.repository),
      expected: row.streamVersion,
      metadata: {
        correlation_id: desired.correlationId,
        causation_id: desired.specEventId,
        actor: desired.actor,
        source: 'reconciler-service',
      },
      operations: [],
      readBack: false,
      appended: false,
      pending: [],
      done: false,
      keepLease: false,
      overtaken: false,
    };
  }

  private hostFor(repository: string): CodeHost | null {
    try {
      return this.options.codeHosts.forRepository(repository);
    } catch {
      return null;
    }
  }

  private identity(r: Round) {
    return {
      changesetId: r.changesetId,
      campaign: r.row.campaign,
      repository: r.row.repository,
      headBranch: r.row.headBranch,
    };
  }

  /**
   * Appends at the round's expected version, after the events held in `pending`; observations
   * appended meanwhile are tolerated.
   */
  private async append(r: Round, type: string, data: Record<string, unknown>): Promise<void> {
    r.pending.push({ type, data });
    await this.flush(r);
  }

  /** Holds an operation's event for the round's next append (see `Round.pending`). */
  private hold(r: Round, type: string, data: Record<string, unknown>): void {
    r.pending.push({ type, data });
  }

  /** Appends the held events, if any. */
  private async flush(r: Round): Promise<void> {
    if (r.pending.length === 0) return;
    const events = r.pending.map((e) => ({
      type: e.type,
      data: { ...this.identity(r), ...e.data },
    }));
    for (;;) {
      try {
        const result = await this.options.store.append(r.stream, events, {
          expected: r.expected,
          metadata: r.metadata,
        });
        r.pending = [];
        r.expected = result.nextExpectedVersion;
        r.appended = true;
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        const newer = await this.options.store.readStream(r.stream, {
          fromVersion: r.expected + 1n,
        });
        if (newer.length === 0 || newer.some((e) => e.type !== 'ChangesetObserved')) {
          throw new RoundAborted(error.message);
        }
        r.expected = newer.at(-1)!.stream_version;
      }
    }
  }

  private async execute(r: Round): Promise<void> {
    if (r.done) return;
    if (r.host === null) {
      await this.fail(
        r,
        'resolve',
        `no configured code host serves ${r.row.repository}; add it to the CAMPAIGNS_CONFIG file`,
        false,
        null,
        undefined,
      ).catch((e: unknown) => this.abandon(r, e));
      return;
    }
    const host = r.host;
    const previous = r.previous;
    const state: ChangesetState = {
      repository: r.row.repository,
      headBranch: r.row.headBranch,
      ownership: 'owned',
      publicationState: r.row.publicationState,
      externalState: r.row.externalState,
      externalId: r.row.number === null ? null : String(r.row.number),
      externalNumber: r.row.number,
      lastPushed:
        r.row.lastPushed === null
          ? null
          : {
              diffSha256: r.row.lastPushed.diffSha256,
              message: r.row.lastPushed.message,
              author: r.row.lastPushed.author,
            },
      title: r.row.title,
      body: r.row.body,
      baseRef: r.row.baseRef,
      draft: r.row.draft,
      supportsDrafts: host.capabilities.drafts,
      detached: false,
      archived: r.row.archived,
      previousSpec: toBranchSpec(previous),
    };
    let current = 'plan';
    try {
      const plan = planChangesetOperations(toBranchSpec(previous), r.spec, state);
      if (plan.error !== null) {
        await this.fail(r, 'plan', plan.error.message, false, null, undefined);
        return;
      }
      for (const operation of plan.operations) {
        current = operation.type;
        await this.perform(r, operation);
      }
    } catch (error) {
      if (error instanceof CodeHostError) {
        const retryable = error.kind !== 'terminal';
        await this.fail(
          r,
          current,
          error.message,
          retryable,
          error.context.status ?? null,
          error.retryAfterMs,
        ).catch((e: unknown) => this.abandon(r, e));
        return;
      }
      this.abandon(r, error);
    }
  }

  private abandon(r: Round, error: unknown): void {
    r.done = true;
    if (error instanceof RoundAborted) r.overtaken = true;
    else r.keepLease = true;
    this.logger.warn(
      { changeset_id: r.changesetId, err: (error as Error).message },
      error instanceof RoundAborted ? 'reconcile round overtaken' : 'reconcile round failed',
    );
  }

  private async fail(
    r: Round,
    operation: string,
    message: string,
    retryable: boolean,
    httpStatus: number | null,
    retryAfterMs: number | undefined,
  ): Promise<void> {
    const attempt = r.row.attempts + 1;
    this.operations.inc({ operation, outcome: retryable ? 'retryable' : 'terminal' });
    await this.append(r, 'ReconcileFailed', {
      specEventId: r.desired.specEventId,
      operation,
      retryable,
      attempt,
      message: message.slice(0, 4000),
      httpStatus,
      retryInMs: retryable ? retryDelayMs(attempt, retryAfterMs) : null,
    });
    r.done = true;
  }

  private async wrote(r: Round, operation: string): Promise<void> {
    this.operations.inc({ operation, outcome: 'done' });
    await this.options.afterHostWrite?.(r.changesetId, operation);
  }

  private async perform(r: Round, operation: Operation): Promise<void> {
    // The previous operation's event is recorded before the next write to the code host.
    await this.flush(r);
    const spec = r.spec;
    const specEventId = r.desired.specEventId;
    const repo = r.row.repository;
    const ref = () => ({ repo, number: r.row.number! });
    const host = r.host!;
    switch (operation.type) {
      case 'push': {
        if (spec === null || r.desired.spec === null) throw new Error('push without a spec');
        const commitSha = await this.pushSpecCommit(r, spec);
        await this.wrote(r, 'push');
        this.hold(r, 'ChangesetUpdated', {
          specEventId,
          operation: 'push',
          number: r.row.number,
          commitSha,
          diffSha256: spec.diffSha256,
        });
        r.row.lastPushed = {
          diffSha256: spec.diffSha256,
          message: spec.commit.message,
          author: spec.commit.author,
          commitSha,
        };
        r.row.headRefOid = commitSha;
        break;
      }
      case 'publish':
      case 'publish-draft': {
        if (spec === null) throw new Error('publish without a spec');
        const pr = await host.createChangeset({
          repo,
          head: r.row.headBranch,
          base: spec.baseRef,
          title: spec.title,
          body: spec.body,
          draft: operation.type === 'publish-draft',
        });
        await this.wrote(r, operation.type);
        this.hold(r, 'ChangesetPublished', {
          specEventId,
          number: pr.number,
          url: pr.url,
          nodeId: pr.nodeId,
          draft: pr.isDraft,
          baseRef: pr.baseRefName,
          headRefOid: pr.headRefOid,
          title: pr.title,
        });
        this.adopt(r, pr);
        r.row.publicationState = pr.isDraft ? 'draft' : 'published';
        // An already open PR (from an attempt that crashed) may carry an older spec's fields.
        if (pr.title !== spec.title || pr.body !== spec.body || pr.baseRefName !== spec.baseRef)
          await this.perform(r, { type: 'update', reason: 'the open PR differs from the spec' });
        if (spec.published === true && pr.isDraft)
          await this.perform(r, { type: 'undraft', reason: 'the open PR is a draft' });
        break;
      }
      case 'update': {
        if (spec === null) throw new Error('update without a spec');
        const pr = await host.updateChangeset({
          ...ref(),
          title: spec.title,
          body: spec.body,
          base: spec.baseRef,
        });
        await this.wrote(r, 'update');
        this.hold(r, 'ChangesetUpdated', {
          specEventId,
          operation: 'update',
          number: pr.number,
          title: pr.title,
          body: pr.body,
          baseRef: pr.baseRefName,
        });
        this.adopt(r, pr);
        break;
      }
      case 'undraft': {
        const pr = await host.markReadyForReview(ref());
        await this.wrote(r, 'undraft');
        this.hold(r, 'ChangesetUpdated', {
          specEventId,
          operation: 'undraft',
          number: pr.number,
        });
        this.adopt(r, pr);
        break;
      }
      case 'reopen': {
        const pr = await host.reopenChangeset(ref());
        await this.wrote(r, 'reopen');
        this.hold(r, 'ChangesetUpdated', {
          specEventId,
          operation: 'reopen',
          number: pr.number,
        });
        this.adopt(r, pr);
        r.row.archived = false;
        break;
      }
      case 'close': {
        const pr = await host.closeChangeset(ref());
        await this.wrote(r, 'close');
        this.hold(r, 'ChangesetClosed', {
          specEventId,
          number: pr.number,
          url: pr.url,
          reason: operation.reason,
        });
        this.adopt(r, pr);
        break;
      }
      case 'archive':
        r.row.archived = true;
        break;
      case 'sync':
        r.readBack = true;
        break;
      default:
        throw new CodeHostError('terminal', `operation ${operation.type} is not supported yet`, {
          operation: operation.type,
          repo,
        });
    }
    if (!r.operations.includes(operation.type)) r.operations.push(operation.type);
  }

  /**
   * Pushes the spec's commit, replacing the branch; returns its sha. With the workspace's tree
   * and pack in the spec, the commit is built here and sent with the pack in one request;
   * otherwise (older specs, a split diff, a host that refuses the pack) the base revision is
   * fetched, the diff applied and committed by git. Both give the same commit.
   */
  private async pushSpecCommit(r: Round, spec: BranchChangesetSpec): Promise<string> {
    const repo = r.row.repository;
    const host = r.host!;
    const packed = await this.packedCommit(r);
    if (packed !== null) {
      const result = await host.pushPack({
        repo,
        branch: r.row.headBranch,
        commitSha: packed.sha,
        pack: packed.pack,
        expectedOldSha: r.row.headRefOid,
      });
      if (result.status === 'pushed') return packed.sha;
      this.logger.warn(
        { changeset_id: r.changesetId, reason: result.reason },
        'the code host refused the pack; pushing from a fetched repository',
      );
    }
    const diff = await this.options.store.getBlob(spec.diffSha256);
    if (diff === null) {
      throw new CodeHostError('terminal', `the diff blob ${spec.diffSha256} is missing`, {
        operation: 'push',
        repo,
      });
    }
    const hostConfig = this.resolver.resolve(repo);
    const name = parseRepositoryName(repo);
    const built = await buildCommit({
      repo,
      remoteUrl: `${hostConfig.url}/${name.owner}/${name.name}.git`,
      token: hostConfig.token,
      baseRef: spec.baseRef,
      baseRevision: r.desired.spec!.baseRevision,
      diff,
      message: spec.commit.message,
      author: spec.commit.author,
      date: r.desired.recordedAt,
    });
    try {
      await host.pushBranch({
        repo,
        localRepoPath: built.localRepoPath,
        commitSha: built.commitSha,
        branch: r.row.headBranch,
        force: true,
      });
    } finally {
      await built.dispose();
    }
    return built.commitSha;
  }

  /** The spec's commit and the executor's pack with it appended; null when it cannot be built here. */
  private async packedCommit(r: Round): Promise<{ sha: string; pack: Buffer } | null> {
    const fields = specCommitFields(r.desired);
    const commit = fields === null ? null : commitObject(fields);
    if (commit === null) return null;
    const pack = await this.options.store.getBlob(r.desired.spec!.tree!.objects.sha256);
    if (pack === null) return null;
    try {
      return { sha: commit.sha, pack: appendObjectToPack(pack, 'commit', commit.content) };
    } catch (error) {
      if (!(error instanceof PackFileError)) throw error;
      this.logger.warn(
        { changeset_id: r.changesetId, err: error.message },
        "the workspace's pack is unusable; pushing from a fetched repository",
      );
      return null;
    }
  }

  /** What the code host answered becomes the round's view of the changeset. */
  private adopt(r: Round, pr: Changeset): void {
    r.row.number = pr.number;
    r.row.url = pr.url;
    r.row.nodeId = pr.nodeId;
    r.row.draft = pr.isDraft;
    r.row.title = pr.title;
    r.row.body = pr.body;
    r.row.baseRef = pr.baseRefName;
    r.row.headRefOid = pr.headRefOid;
    r.row.externalState = OBSERVED_STATE[pr.state];
  }

  /**
   * Reads the round's changeset from its code host (in a batch with other rounds' reads) and
   * appends a `ChangesetObserved` (source sync) when it differs from what the round knows.
   */
  private async sync(r: Round, queued: () => void = () => undefined): Promise<void> {
    if (r.host === null) return;
    let o: ChangesetObservation | undefined;
    try {
      queued();
      o = await this.reads.load(r.host, { repo: r.row.repository, number: r.row.number! });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'loading changesets failed');
      return;
    }
    if (o === undefined || !observationDiffers(r.row, o)) return;
    try {
      await this.append(r, 'ChangesetObserved', syncObservation(o));
      this.observe(r, o);
    } catch (error) {
      this.abandon(r, error);
    }
  }

  /** Mirrors the projection's handling of an observation in the round's view. */
  private observe(r: Round, o: ChangesetObservation): void {
    r.row.externalState = OBSERVED_STATE[o.state];
    r.row.draft = o.isDraft;
    r.row.title = o.title;
    if (r.row.publicationState !== 'unpublished')
      r.row.publicationState = o.isDraft ? 'draft' : 'published';
    r.row.headRefOid = o.headRefOid;
    if (
      r.row.lastPushed !== null &&
      r.row.lastPushed.commitSha !== o.headRefOid &&
      o.state !== 'MERGED'
    )
      r.row.lastPushed = null;
  }

  private async finish(r: Round): Promise<void> {
    try {
      if (!r.done && r.desired.specEventId !== r.row.lastReconciledSpecEventId) {
        await this.append(r, 'ChangesetReconciled', {
          specEventId: r.desired.specEventId,
          operations: r.operations,
        });
      } else {
        await this.flush(r);
      }
    } catch (error) {
      this.abandon(r, error);
    }
    if (r.keepLease) return;
    await this.release(r.changesetId, r.claimedDueVersion, r.expected, !r.overtaken).catch(
      (error: unknown) =>
        this.logger.error(
          { changeset_id: r.changesetId, err: (error as Error).message },
          'release failed',
        ),
    );
  }
}
