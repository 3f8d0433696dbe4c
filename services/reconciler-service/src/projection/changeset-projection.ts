import type { ProjectionContext, ProjectionDefinition, StoredEvent } from '@campaigns/events';
import { newChangesetRow, type RecordedSpec } from '../changeset/changeset-row.js';
import { changesetEvent, evolveChangeset, recordedSpecOf } from '../changeset/evolve-changeset.js';
import { foldQueueChange, noQueueChange, type QueueChange } from '../changeset/queue-change.js';
import {
  loadChangesetRows,
  SAVE_CHUNK,
  saveQueueChanges,
  saveRecordedSpecs,
  saveRows,
} from './changeset-store.js';
import { ChangesetSpecEntity } from './changeset-spec.entity.js';
import { ChangesetEntity } from './changeset.entity.js';
import { ReconcileQueueEntry } from './reconcile-queue.entity.js';

export type { ChangesetRow, RecordedSpec } from '../changeset/changeset-row.js';
export { toBranchSpec } from '../changeset/changeset-row.js';
export { loadChangesetRow, loadRecordedSpec, loadRecordedSpecs } from './changeset-store.js';
export { ChangesetEntity, ChangesetSpecEntity, ReconcileQueueEntry };

/** The entities of the projection's tables. */
export const CHANGESET_ENTITIES = [ChangesetEntity, ChangesetSpecEntity, ReconcileQueueEntry];

/** The projection's name; its consumer's checkpoints are recorded under it. */
export const CHANGESET_PROJECTION = 'changesets';

/**
 * The reconciler's projection of `changeset-<id>` streams: desired state, actual state and the
 * reconcile work queue. `changesets` and `changeset_specs` are deterministic (replay compares
 * them); `reconcile_queue` holds leases and wall-clock bookkeeping and is not compared.
 */
export function changesetProjection(): ProjectionDefinition {
  return {
    name: CHANGESET_PROJECTION,
    categories: ['changeset'],
    entities: CHANGESET_ENTITIES,
    migrations: (schema) => [
      {
        version: 1,
        name: 'changesets, changeset specs and the reconcile queue',
        sql: `
CREATE TABLE ${schema}.changeset_specs (
  spec_event_id uuid PRIMARY KEY,
  changeset_id text NOT NULL,
  campaign text NOT NULL,
  repository text NOT NULL,
  head_branch text NOT NULL,
  spec jsonb,
  correlation_id text NOT NULL,
  actor text NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX ON ${schema}.changeset_specs (changeset_id);
CREATE TABLE ${schema}.changesets (
  changeset_id text PRIMARY KEY,
  campaign text NOT NULL,
  repository text NOT NULL,
  head_branch text NOT NULL,
  desired_spec_event_id uuid,
  previous_spec_event_id uuid,
  last_reconciled_spec_event_id uuid,
  publication_state text NOT NULL,
  external_state text,
  number integer,
  url text,
  node_id text,
  draft boolean NOT NULL,
  head_ref_oid text,
  last_pushed jsonb,
  title text,
  body text,
  base_ref text,
  archived boolean NOT NULL,
  attempts integer NOT NULL,
  last_error text,
  terminal_spec_event_id uuid,
  stream_version bigint NOT NULL
);
CREATE TABLE ${schema}.reconcile_queue (
  changeset_id text PRIMARY KEY,
  due_at timestamptz NOT NULL,
  due_version bigint NOT NULL,
  reason text NOT NULL,
  wait_version bigint NOT NULL DEFAULT 0,
  leased_by text,
  lease_expires_at timestamptz
);
CREATE INDEX ON ${schema}.reconcile_queue (due_at);`,
      },
      {
        version: 2,
        name: 'the fork a changeset was pushed to',
        // NULL for rows from before: their branches were pushed to their own repositories.
        sql: `ALTER TABLE ${schema}.changesets ADD COLUMN head_repository text;`,
      },
      {
        version: 3,
        name: 'changesets imported by number, and detached ones',
        // importChangesets: the desired state names a pull request; the changeset is tracked
        // (never pushed to or closed) and, once no longer listed, detached.
        sql: `
ALTER TABLE ${schema}.changeset_specs ADD COLUMN import_number integer;
ALTER TABLE ${schema}.changesets ADD COLUMN imported boolean NOT NULL DEFAULT false,
  ADD COLUMN detached boolean NOT NULL DEFAULT false;`,
      },
      {
        version: 4,
        name: 'auto-merge: the method wanted, checks and review observed, a merge refused',
        // Rows from before: no auto-merge wanted, checks unknown and a review required (NULL
        // would say none is) until the next observation reads them.
        sql: `
ALTER TABLE ${schema}.changesets ADD COLUMN auto_merge text,
  ADD COLUMN auto_merge_native boolean NOT NULL DEFAULT false, ADD COLUMN checks text,
  ADD COLUMN review_decision text DEFAULT 'REVIEW_REQUIRED', ADD COLUMN merge_refusal text,
  ADD COLUMN native_auto_merge_head text;
ALTER TABLE ${schema}.changesets ALTER COLUMN review_decision DROP DEFAULT;`,
      },
      {
        version: 5,
        name: 'what bulk operations asked of a changeset beyond its spec',
        sql: `
ALTER TABLE ${schema}.changesets ADD COLUMN held_closed boolean NOT NULL DEFAULT false,
  ADD COLUMN publish_requested boolean NOT NULL DEFAULT false;`,
      },
    ],
    tables: [
      { name: 'changesets', key: ['changeset_id'] },
      { name: 'changeset_specs', key: ['spec_event_id'] },
    ],
    // A batch costs a constant number of statements however many events and changesets it
    // holds: one read of the rows, one write of each table. Events still apply one by one, in
    // order, through the one evolve (events carry everything it needs).
    async handle(events: readonly StoredEvent[], ctx: ProjectionContext) {
      const typed = events.map(changesetEvent);
      const ids = [...new Set(typed.map((e) => e.data.changesetId))];
      const rows = await loadChangesetRows(ctx.manager, ids);
      const recorded: RecordedSpec[] = [];
      const queue = new Map<string, QueueChange>();
      for (const event of typed) {
        const id = event.data.changesetId;
        const before = rows.get(id) ?? newChangesetRow(event.data);
        let change = queue.get(id);
        if (change === undefined) {
          change = noQueueChange();
          queue.set(id, change);
        }
        foldQueueChange(change, before, event);
        rows.set(id, evolveChangeset(before, event));
        const spec = recordedSpecOf(event);
        if (spec !== null) recorded.push(spec);
      }
      await saveRecordedSpecs(ctx.manager, ctx.schema, recorded);
      await saveQueueChanges(ctx.manager, ctx.schema, queue);
      const touched = [...rows.values()];
      for (let i = 0; i < touched.length; i += SAVE_CHUNK)
        await saveRows(ctx.manager, touched.slice(i, i + SAVE_CHUNK));
    },
  };
}
