import type pg from 'pg';
import { CHANGESET_PROJECTION } from '../projection/changeset-projection.js';

/** A changeset this worker claimed, and the queue version it was due at. */
export interface Claim {
  id: string;
  dueVersion: bigint;
}

/**
 * The reconcile queue's SQL from the worker's side, all of it (the projection writes what is
 * due; see projection/changeset-store.ts): claims with a lease, their renewal and release.
 */
export class ReconcileQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {}

  private get table(): string {
    return `${this.schema}.reconcile_queue`;
  }

  /**
   * Claims up to `limit` due changesets whose stream the projection has applied up to the
   * version they are due (and any version a round waits for), earliest due first.
   */
  async claim(limit: number): Promise<Claim[]> {
    const { rows } = await this.pool.query<{ changeset_id: string; due_version: string }>(
      `UPDATE ${this.table} q SET leased_by = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE q.changeset_id IN (
          SELECT w.changeset_id FROM ${this.table} w
            JOIN ${this.schema}.projection_checkpoints c
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

  /** Extends the leases this worker holds. */
  async renew(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.table} SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
        WHERE changeset_id = ANY ($1::text[]) AND leased_by = $2`,
      [ids, this.workerId, this.leaseMs],
    );
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
    await this.pool.query(
      `WITH gone AS (
         DELETE FROM ${this.table}
          WHERE $5::boolean AND changeset_id = $1 AND leased_by = $2 AND due_version <= $3
         RETURNING changeset_id)
       UPDATE ${this.table} SET leased_by = NULL, lease_expires_at = NULL,
              wait_version = GREATEST(wait_version, $4)
        WHERE changeset_id = $1 AND leased_by = $2
          AND NOT EXISTS (SELECT 1 FROM gone)`,
      [changesetId, this.workerId, dueVersion.toString(), waitVersion.toString(), done],
    );
  }
}
