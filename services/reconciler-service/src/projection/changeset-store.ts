/*
 * Every statement of the changeset projection, in one home: the rows (`changesets`), the
 * desired states (`changeset_specs`) and the reconcile queue's changes. What they hold is
 * decided by the pure modules in ../changeset.
 */
import type { ChangesetSpecData } from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { ChangesetRow, RecordedSpec } from '../changeset/changeset-row.js';
import type { QueueChange } from '../changeset/queue-change.js';
import type { ExternalState, PublicationState } from '../planner/index.js';

const ROW_COLUMNS = `changeset_id, campaign, repository, head_branch, desired_spec_event_id, previous_spec_event_id,
  last_reconciled_spec_event_id, publication_state, external_state, number, url, node_id, draft, head_ref_oid,
  last_pushed, title, body, base_ref, archived, attempts, last_error, terminal_spec_event_id, stream_version`;

interface DbRow {
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  desired_spec_event_id: string | null;
  previous_spec_event_id: string | null;
  last_reconciled_spec_event_id: string | null;
  publication_state: PublicationState;
  external_state: ExternalState | null;
  number: number | null;
  url: string | null;
  node_id: string | null;
  draft: boolean;
  head_ref_oid: string | null;
  last_pushed: ChangesetRow['lastPushed'];
  title: string | null;
  body: string | null;
  base_ref: string | null;
  archived: boolean;
  attempts: number;
  last_error: string | null;
  terminal_spec_event_id: string | null;
  stream_version: string;
}

function fromDb(r: DbRow): ChangesetRow {
  return {
    changesetId: r.changeset_id,
    campaign: r.campaign,
    repository: r.repository,
    headBranch: r.head_branch,
    desiredSpecEventId: r.desired_spec_event_id,
    previousSpecEventId: r.previous_spec_event_id,
    lastReconciledSpecEventId: r.last_reconciled_spec_event_id,
    publicationState: r.publication_state,
    externalState: r.external_state,
    number: r.number,
    url: r.url,
    nodeId: r.node_id,
    draft: r.draft,
    headRefOid: r.head_ref_oid,
    lastPushed: r.last_pushed,
    title: r.title,
    body: r.body,
    baseRef: r.base_ref,
    archived: r.archived,
    attempts: r.attempts,
    lastError: r.last_error,
    terminalSpecEventId: r.terminal_spec_event_id,
    streamVersion: BigInt(r.stream_version),
  };
}

type Db = Pick<PoolClient, 'query'>;

export async function loadChangesetRow(
  db: Db,
  schema: string,
  changesetId: string,
): Promise<ChangesetRow | null> {
  const { rows } = await db.query<DbRow>(
    `SELECT ${ROW_COLUMNS} FROM ${schema}.changesets WHERE changeset_id = $1`,
    [changesetId],
  );
  return rows[0] ? fromDb(rows[0]) : null;
}

export async function loadChangesetRows(
  db: Db,
  schema: string,
  changesetIds: readonly string[],
): Promise<Map<string, ChangesetRow>> {
  const { rows } = await db.query<DbRow>(
    `SELECT ${ROW_COLUMNS} FROM ${schema}.changesets WHERE changeset_id = ANY($1::text[])`,
    [changesetIds],
  );
  return new Map(rows.map((r) => [r.changeset_id, fromDb(r)]));
}

interface SpecDbRow {
  spec_event_id: string;
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  spec: ChangesetSpecData | null;
  correlation_id: string;
  actor: string;
  recorded_at: Date;
}

function fromSpecDb(r: SpecDbRow): RecordedSpec {
  return {
    specEventId: r.spec_event_id,
    changesetId: r.changeset_id,
    campaign: r.campaign,
    repository: r.repository,
    headBranch: r.head_branch,
    spec: r.spec,
    correlationId: r.correlation_id,
    actor: r.actor,
    recordedAt: r.recorded_at,
  };
}

const SPEC_COLUMNS =
  'spec_event_id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor, recorded_at';

export async function loadRecordedSpec(
  db: Db,
  schema: string,
  specEventId: string | null,
): Promise<RecordedSpec | null> {
  if (specEventId === null) return null;
  return (await loadRecordedSpecs(db, schema, [specEventId])).get(specEventId) ?? null;
}

/** Many recorded specs in one query, by spec event id. */
export async function loadRecordedSpecs(
  db: Db,
  schema: string,
  specEventIds: readonly string[],
): Promise<Map<string, RecordedSpec>> {
  if (specEventIds.length === 0) return new Map();
  const { rows } = await db.query<SpecDbRow>(
    `SELECT ${SPEC_COLUMNS} FROM ${schema}.changeset_specs WHERE spec_event_id = ANY($1::uuid[])`,
    [[...new Set(specEventIds)]],
  );
  return new Map(rows.map((r) => [r.spec_event_id, fromSpecDb(r)]));
}

/** Records spec events' desired states in one statement; a spec already recorded is kept. */
export async function saveRecordedSpecs(
  db: Db,
  schema: string,
  specs: readonly RecordedSpec[],
): Promise<void> {
  if (specs.length === 0) return;
  await db.query(
    `INSERT INTO ${schema}.changeset_specs (${SPEC_COLUMNS})
     SELECT u.id, u.changeset_id, u.campaign, u.repository, u.head_branch, u.spec::jsonb,
            u.correlation_id, u.actor, u.recorded_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                   $7::text[], $8::text[], $9::timestamptz[])
         AS u(id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor, recorded_at)
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
    ],
  );
}

function rowValues(row: ChangesetRow): unknown[] {
  return [
    row.changesetId,
    row.campaign,
    row.repository,
    row.headBranch,
    row.desiredSpecEventId,
    row.previousSpecEventId,
    row.lastReconciledSpecEventId,
    row.publicationState,
    row.externalState,
    row.number,
    row.url,
    row.nodeId,
    row.draft,
    row.headRefOid,
    row.lastPushed === null ? null : JSON.stringify(row.lastPushed),
    row.title,
    row.body,
    row.baseRef,
    row.archived,
    row.attempts,
    row.lastError,
    row.terminalSpecEventId,
    row.streamVersion.toString(),
  ];
}

/** Writes rows in one statement (a batch's worth: well under PostgreSQL's parameter limit). */
export async function saveRows(
  db: Db,
  schema: string,
  rows: readonly ChangesetRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = ROW_COLUMNS.split(',').map((c) => c.trim());
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const first = values.length;
    values.push(...rowValues(row));
    return `(${columns.map((_, i) => `$${first + i + 1}`).join(', ')})`;
  });
  await db.query(
    `INSERT INTO ${schema}.changesets (${columns.join(', ')}) VALUES ${tuples.join(', ')}
     ON CONFLICT (changeset_id) DO UPDATE SET ${columns
       .slice(1)
       .map((c) => `${c} = EXCLUDED.${c}`)
       .join(', ')}`,
    values,
  );
}

/** Rows per statement when saving a batch: 23 parameters each, far below the 65,535 limit. */
export const SAVE_CHUNK = 1000;

/** Applies a batch's queue changes: one delete, then one upsert per way of setting `due_at`. */
export async function saveQueueChanges(
  db: Db,
  schema: string,
  changes: ReadonlyMap<string, QueueChange>,
): Promise<void> {
  const removed = [...changes].filter(([, c]) => c.removed).map(([id]) => id);
  if (removed.length > 0) {
    await db.query(`DELETE FROM ${schema}.reconcile_queue WHERE changeset_id = ANY($1::text[])`, [
      removed,
    ]);
  }
  for (const replace of [false, true]) {
    const upserts = [...changes].filter(
      ([, c]) => c.upsert !== null && c.upsert.replace === replace,
    );
    if (upserts.length === 0) continue;
    const q = `${schema}.reconcile_queue`;
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
