import { ProjectionCheckpoint } from '@campaigns/events';
import type { DataSource } from 'typeorm';
import { CHANGESET_PROJECTION } from '../projection/changeset-projection.js';
import { ReconcileQueueEntry } from '../projection/reconcile-queue.entity.js';

/** A changeset this worker claimed, and the queue version it was due at. */
export interface Claim {
  id: string;
  dueVersion: bigint;
}

/** A lease of `leaseMs` from the database's clock, which every worker shares. */
const LEASE_END = 'now() + make_interval(secs => :leaseMs::float8 / 1000)';

/**
 * The reconcile queue's statements from the worker's side, all of them (the projection writes
 * what is due; see projection/changeset-store.ts): claims with a lease, their renewal and
 * release. Each is one statement, outside any transaction.
 */
export class ReconcileQueue {
  constructor(
    private readonly database: DataSource,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Claims up to `limit` due changesets whose stream the projection has applied up to the
   * version they are due (and any version a round waits for), earliest due first.
   */
  async claim(limit: number): Promise<Claim[]> {
    const due = this.database
      .createQueryBuilder()
      .select('w.changeset_id')
      .from(ReconcileQueueEntry, 'w')
      .innerJoin(
        ProjectionCheckpoint,
        'c',
        `c.projection = :projection AND c.stream_id = 'changeset-' || w.changeset_id`,
      )
      .where('w.due_at <= now()')
      .andWhere('(w.lease_expires_at IS NULL OR w.lease_expires_at < now())')
      .andWhere('c.stream_version >= GREATEST(w.due_version, w.wait_version)')
      .orderBy('w.due_at')
      .limit(limit)
      .setLock('pessimistic_write', undefined, ['w'])
      .setOnLocked('skip_locked');
    const { raw } = await this.database
      .createQueryBuilder()
      .update(ReconcileQueueEntry)
      .set({ leasedBy: this.workerId, leaseExpiresAt: () => LEASE_END })
      .where(`changeset_id IN (${due.getQuery()})`)
      .setParameters({ projection: CHANGESET_PROJECTION, leaseMs: this.leaseMs })
      .returning(['changesetId', 'dueVersion'])
      .updateEntity(false)
      .callListeners(false)
      .execute();
    return (raw as { changeset_id: string; due_version: string }[]).map((r) => ({
      id: r.changeset_id,
      dueVersion: BigInt(r.due_version),
    }));
  }

  /** Extends the leases this worker holds. */
  async renew(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.database
      .createQueryBuilder()
      .update(ReconcileQueueEntry)
      .set({ leaseExpiresAt: () => LEASE_END })
      .where('changeset_id = ANY(:ids::text[])', { ids })
      .andWhere('leased_by = :workerId', { workerId: this.workerId })
      .setParameter('leaseMs', this.leaseMs)
      .updateEntity(false)
      .callListeners(false)
      .execute();
  }

  /**
   * Gives a claim back. `done` and not due again since the claim: the row goes. Otherwise the
   * lease is released, and the next claim waits until the projection has applied `waitVersion`.
   */
  async release(
    changesetId: string,
    dueVersion: bigint,
    waitVersion: bigint,
    done: boolean,
  ): Promise<void> {
    // One statement: done and not due again → the row goes; otherwise the lease is given back.
    // Raw: a CTE whose DELETE decides whether the UPDATE runs (the QueryBuilder cannot chain
    // data-modifying statements).
    await this.database.query(
      `WITH gone AS (
         DELETE FROM reconcile_queue
          WHERE $5::boolean AND changeset_id = $1 AND leased_by = $2 AND due_version <= $3
         RETURNING changeset_id)
       UPDATE reconcile_queue SET leased_by = NULL, lease_expires_at = NULL,
              wait_version = GREATEST(wait_version, $4)
        WHERE changeset_id = $1 AND leased_by = $2
          AND NOT EXISTS (SELECT 1 FROM gone)`,
      [changesetId, this.workerId, dueVersion.toString(), waitVersion.toString(), done],
    );
  }
}
