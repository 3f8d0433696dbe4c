import type {
  BulkChangesetProcessed,
  BulkChangesetsTargeted,
  BulkOperationRequested,
  EventData,
  ProjectionDefinition,
  StoredEvent,
} from '@campaigns/events';
import { BulkJobEntity, BulkOperationEntity } from './bulk-job.entity.js';

/** The projection's name; its consumer's checkpoints are recorded under it. */
export const BULK_JOBS_PROJECTION = 'bulk_jobs';

export const BULK_JOB_ENTITIES = [BulkOperationEntity, BulkJobEntity];

/**
 * The bulk processor's work queue, from `bulk-<id>` streams: each requested operation, and one
 * job per changeset it targets, due at once; a job is finished when its result is recorded
 * (BulkChangesetProcessed), whoever recorded it. A queue with leases and wall-clock times, so
 * replay compares none of it.
 */
export function bulkJobsProjection(): ProjectionDefinition {
  return {
    name: BULK_JOBS_PROJECTION,
    categories: ['bulk'],
    entities: BULK_JOB_ENTITIES,
    migrations: (schema) => [
      {
        version: 1,
        name: 'bulk operations and their jobs',
        sql: `
CREATE TABLE ${schema}.bulk_operations (
  operation_id uuid PRIMARY KEY,
  campaign text NOT NULL,
  operation text NOT NULL,
  message text,
  method text,
  actor text NOT NULL
);
CREATE TABLE ${schema}.bulk_jobs (
  operation_id uuid NOT NULL,
  changeset_id text NOT NULL,
  repository text NOT NULL,
  head_branch text NOT NULL,
  finished boolean NOT NULL DEFAULT false,
  started boolean NOT NULL DEFAULT false,
  attempts integer NOT NULL DEFAULT 0,
  due_at timestamptz NOT NULL,
  leased_by text,
  lease_expires_at timestamptz,
  PRIMARY KEY (operation_id, changeset_id)
);
CREATE INDEX bulk_jobs_due_idx ON ${schema}.bulk_jobs (due_at) WHERE NOT finished;`,
      },
    ],
    tables: [],
    // Raw statements: one per event, a handful per operation (its targets come in chunks).
    async handle(events: readonly StoredEvent[], { manager, schema }) {
      for (const e of events) {
        if (e.type === 'BulkOperationRequested') {
          const d = e.data as EventData<typeof BulkOperationRequested>;
          await manager.query(
            `INSERT INTO ${schema}.bulk_operations (operation_id, campaign, operation, message, method, actor)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (operation_id) DO NOTHING`,
            [d.operationId, d.campaign, d.operation, d.message ?? null, d.method ?? null, d.actor],
          );
        } else if (e.type === 'BulkChangesetsTargeted') {
          const d = e.data as EventData<typeof BulkChangesetsTargeted>;
          await manager.query(
            `INSERT INTO ${schema}.bulk_jobs (operation_id, changeset_id, repository, head_branch, due_at)
             SELECT $1, u.id, u.repository, u.head_branch, $5
               FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, repository, head_branch)
             ON CONFLICT (operation_id, changeset_id) DO NOTHING`,
            [
              d.operationId,
              d.changesets.map((c) => c.changesetId),
              d.changesets.map((c) => c.repository),
              d.changesets.map((c) => c.headBranch),
              e.recorded_at,
            ],
          );
        } else if (e.type === 'BulkChangesetProcessed') {
          const d = e.data as EventData<typeof BulkChangesetProcessed>;
          await manager.query(
            `UPDATE ${schema}.bulk_jobs SET finished = true, leased_by = NULL, lease_expires_at = NULL
              WHERE operation_id = $1 AND changeset_id = $2`,
            [d.operationId, d.changesetId],
          );
        }
      }
    },
  };
}
