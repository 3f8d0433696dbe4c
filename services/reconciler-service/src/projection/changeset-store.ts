/*
 * Every statement of the changeset projection, in one home: the rows (`changesets`), the
 * desired states (`changeset_specs`) and the reconcile queue's changes. What they hold is
 * decided by the pure modules in ../changeset. The entities' tables are the ones the manager's
 * connection searches (the service's schema, or a replay's scratch copy); the raw statements
 * name `schema` (the projection context's), which is the same schema. Reads go through
 * `selectEntities` (the entity's columns and hydration without the QueryBuilder's per-call cost:
 * they run once or twice per reconcile round).
 */
import { selectEntities } from '@campaigns/events';
import type { EntityManager } from 'typeorm';
import type { ChangesetRow, RecordedSpec } from '../changeset/changeset-row.js';
import type { QueueChange } from '../changeset/queue-change.js';
import { ChangesetSpecEntity } from './changeset-spec.entity.js';
import { ChangesetEntity } from './changeset.entity.js';
import { ReconcileQueueEntry } from './reconcile-queue.entity.js';

function fromEntity(e: ChangesetEntity): ChangesetRow {
  return { ...e, streamVersion: BigInt(e.streamVersion) };
}

function fromSpecEntity(e: ChangesetSpecEntity): RecordedSpec {
  return { ...e };
}

export async function loadChangesetRow(
  db: EntityManager,
  changesetId: string,
): Promise<ChangesetRow | null> {
  const [row] = await selectEntities(db, ChangesetEntity, 'changeset_id = $1', [changesetId]);
  return row ? fromEntity(row) : null;
}

/** The rows of these changesets in one query (one array parameter, however many). */
export async function loadChangesetRows(
  db: EntityManager,
  changesetIds: readonly string[],
): Promise<Map<string, ChangesetRow>> {
  const rows = await selectEntities(db, ChangesetEntity, 'changeset_id = ANY($1::text[])', [
    changesetIds,
  ]);
  return new Map(rows.map((r) => [r.changesetId, fromEntity(r)]));
}

export async function loadRecordedSpec(
  db: EntityManager,
  specEventId: string | null,
): Promise<RecordedSpec | null> {
  if (specEventId === null) return null;
  return (await loadRecordedSpecs(db, [specEventId])).get(specEventId) ?? null;
}

/** Many recorded specs in one query, by spec event id. */
export async function loadRecordedSpecs(
  db: EntityManager,
  specEventIds: readonly string[],
): Promise<Map<string, RecordedSpec>> {
  if (specEventIds.length === 0) return new Map();
  const rows = await selectEntities(db, ChangesetSpecEntity, 'spec_event_id = ANY($1::uuid[])', [
    [...new Set(specEventIds)],
  ]);
  return new Map(rows.map((r) => [r.specEventId, fromSpecEntity(r)]));
}

const SPEC_COLUMNS =
  'spec_event_id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor, recorded_at, import_number';

/** Records spec events' desired states in one statement; a spec already recorded is kept. */
export async function saveRecordedSpecs(
  db: EntityManager,
  schema: string,
  specs: readonly RecordedSpec[],
): Promise<void> {
  if (specs.length === 0) return;
  // Raw: one INSERT … SELECT FROM unnest for the whole batch, ten array parameters however
  // many specs (the QueryBuilder has no INSERT from unnest).
  await db.query(
    `INSERT INTO ${schema}.changeset_specs (${SPEC_COLUMNS})
     SELECT u.id, u.changeset_id, u.campaign, u.repository, u.head_branch, u.spec::jsonb,
            u.correlation_id, u.actor, u.recorded_at, u.import_number
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                   $7::text[], $8::text[], $9::timestamptz[], $10::integer[])
         AS u(id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor,
              recorded_at, import_number)
     ON CONFLICT (spec_event_id) DO NOTHING`,
    [
      specs.map((s) => s.specEventId),
      specs.map((s) => s.changesetId),
      specs.map((s) => s.campaign),
      specs.map((s) => s.repository),
      specs.map((s) => s.headBranch),
      specs.map((s) => (s.spec === null ? null : JSON.stringify(s.spec))),
      specs.map((s) => s.correlationId),
      specs.map((s) => s.actor),
      specs.map((s) => s.recordedAt),
      specs.map((s) => s.importNumber),
    ],
  );
}

/** Writes rows in one statement (a batch's worth: well under PostgreSQL's parameter limit). */
export async function saveRows(db: EntityManager, rows: readonly ChangesetRow[]): Promise<void> {
  if (rows.length === 0) return;
  // Raw, though the QueryBuilder can write it: it builds this statement at ~5 µs a parameter
  // (~150 ms for 1,000 rows of 23 columns, ~20 ms this way), on the reconciler's hot path. The
  // columns and the values' conversion are still the entity's (its metadata and TypeORM's driver).
  const { driver } = db.connection;
  const columns = db.connection.getMetadata(ChangesetEntity).columns;
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const entity = { ...row, streamVersion: row.streamVersion.toString() };
    const first = values.length;
    for (const c of columns)
      values.push(driver.preparePersistentValue(c.getEntityValue(entity), c));
    return `(${columns.map((_, i) => `$${first + i + 1}`).join(', ')})`;
  });
  const names = columns.map((c) => c.databaseName);
  await db.query(
    `INSERT INTO changesets (${names.join(', ')}) VALUES ${tuples.join(', ')}
     ON CONFLICT (changeset_id) DO UPDATE SET ${names
       .filter((n) => n !== 'changeset_id')
       .map((n) => `${n} = EXCLUDED.${n}`)
       .join(', ')}`,
    values,
  );
}

/** Rows per statement when saving a batch: 33 parameters each, far below the 65,535 limit. */
export const SAVE_CHUNK = 1000;

/** Applies a batch's queue changes: one delete, then one upsert per way of setting `due_at`. */
export async function saveQueueChanges(
  db: EntityManager,
  schema: string,
  changes: ReadonlyMap<string, QueueChange>,
): Promise<void> {
  const removed = [...changes].filter(([, c]) => c.removed).map(([id]) => id);
  if (removed.length > 0) {
    await db
      .createQueryBuilder()
      .delete()
      .from(ReconcileQueueEntry)
      .where('changeset_id = ANY(:removed::text[])', { removed })
      .callListeners(false)
      .execute();
  }
  for (const replace of [false, true]) {
    const upserts = [...changes].filter(
      ([, c]) => c.upsert !== null && c.upsert.replace === replace,
    );
    if (upserts.length === 0) continue;
    const q = `${schema}.reconcile_queue`;
    // Raw: one INSERT … SELECT FROM unnest for the batch whose conflict keeps the earlier time
    // and the greater version (the QueryBuilder's upsert can only overwrite with EXCLUDED).
    await db.query(
      `INSERT INTO ${q} (changeset_id, due_at, due_version, reason)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::text[])
       ON CONFLICT (changeset_id) DO UPDATE SET
         due_at = ${replace ? 'EXCLUDED.due_at' : `LEAST(${q}.due_at, EXCLUDED.due_at)`},
         due_version = GREATEST(${q}.due_version, EXCLUDED.due_version),
         reason = EXCLUDED.reason`,
      [
        upserts.map(([id]) => id),
        upserts.map(([, c]) => c.upsert!.dueAt),
        upserts.map(([, c]) => c.upsert!.dueVersion.toString()),
        upserts.map(([, c]) => c.upsert!.reason),
      ],
    );
  }
}
