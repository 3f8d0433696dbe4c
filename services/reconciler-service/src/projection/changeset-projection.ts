import type {
  ChangesetSpecData,
  ProjectionContext,
  ProjectionDefinition,
  StoredEvent,
} from '@campaigns/events';
import type { PoolClient } from 'pg';
import type {
  BranchChangesetSpec,
  ExternalState,
  PublicationState,
  PushedCommit,
} from '../planner/index.js';

/** The projection's name; its consumer's checkpoints are recorded under it. */
export const CHANGESET_PROJECTION = 'changesets';

/** One desired state as a spec event recorded it (table `changeset_specs`). */
export interface RecordedSpec {
  specEventId: string;
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  /** Null for ChangesetSpecRemoved. */
  spec: ChangesetSpecData | null;
  correlationId: string;
  actor: string;
  recordedAt: Date;
}

/** The projected actual and desired state of one changeset (table `changesets`). */
export interface ChangesetRow {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  desiredSpecEventId: string | null;
  previousSpecEventId: string | null;
  lastReconciledSpecEventId: string | null;
  publicationState: PublicationState;
  externalState: ExternalState | null;
  number: number | null;
  url: string | null;
  nodeId: string | null;
  draft: boolean;
  headRefOid: string | null;
  lastPushed: (PushedCommit & { commitSha: string }) | null;
  title: string | null;
  body: string | null;
  baseRef: string | null;
  archived: boolean;
  attempts: number;
  lastError: string | null;
  /** The spec event a terminal failure happened for: no retry until another spec. */
  terminalSpecEventId: string | null;
  streamVersion: bigint;
}

interface ChangesetIdentity {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  specEventId?: string;
}

/** The planner's branch spec for a recorded spec (null when removed). */
export function toBranchSpec(recorded: RecordedSpec | null): BranchChangesetSpec | null {
  if (recorded?.spec == null) return null;
  const s = recorded.spec;
  return {
    kind: 'branch',
    repository: recorded.repository,
    baseRef: s.baseRef,
    headBranch: recorded.headBranch,
    title: s.title,
    body: s.body,
    commit: { message: s.commit.message, author: { ...s.commit.author } },
    diffSha256: s.diff.sha256,
    published: s.published,
  };
}

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

async function loadChangesetRows(
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

export async function loadRecordedSpec(
  db: Db,
  schema: string,
  specEventId: string | null,
): Promise<RecordedSpec | null> {
  if (specEventId === null) return null;
  const { rows } = await db.query<SpecDbRow>(
    `SELECT spec_event_id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor, recorded_at
       FROM ${schema}.changeset_specs WHERE spec_event_id = $1`,
    [specEventId],
  );
  const r = rows[0];
  if (!r) return null;
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
async function saveRows(db: Db, schema: string, rows: readonly ChangesetRow[]): Promise<void> {
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
const SAVE_CHUNK = 1000;

function newRow(identity: ChangesetIdentity): ChangesetRow {
  return {
    changesetId: identity.changesetId,
    campaign: identity.campaign,
    repository: identity.repository,
    headBranch: identity.headBranch,
    desiredSpecEventId: null,
    previousSpecEventId: null,
    lastReconciledSpecEventId: null,
    publicationState: 'unpublished',
    externalState: null,
    number: null,
    url: null,
    nodeId: null,
    draft: false,
    headRefOid: null,
    lastPushed: null,
    title: null,
    body: null,
    baseRef: null,
    archived: false,
    attempts: 0,
    lastError: null,
    terminalSpecEventId: null,
    streamVersion: 0n,
  };
}

/**
 * Makes the changeset due for reconciliation at `dueAt`. `replaceDueAt` (retries) sets the time
 * even when the row is due earlier; otherwise the earlier time wins.
 */
async function enqueue(
  db: Db,
  schema: string,
  changesetId: string,
  dueAt: Date,
  version: bigint,
  reason: string,
  replaceDueAt = false,
): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.reconcile_queue (changeset_id, due_at, due_version, reason)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (changeset_id) DO UPDATE SET
       due_at = ${replaceDueAt ? 'EXCLUDED.due_at' : `LEAST(${schema}.reconcile_queue.due_at, EXCLUDED.due_at)`},
       due_version = GREATEST(${schema}.reconcile_queue.due_version, EXCLUDED.due_version),
       reason = EXCLUDED.reason`,
    [changesetId, dueAt, version.toString(), reason],
  );
}

async function dequeue(db: Db, schema: string, changesetId: string): Promise<void> {
  await db.query(`DELETE FROM ${schema}.reconcile_queue WHERE changeset_id = $1`, [changesetId]);
}

type Data = Record<string, unknown> & ChangesetIdentity;

/**
 * The reconciler's projection of `changeset-<id>` streams: desired state, actual state and the
 * reconcile work queue. `changesets` and `changeset_specs` are deterministic (replay compares
 * them); `reconcile_queue` holds leases and wall-clock bookkeeping and is not compared.
 */
export function changesetProjection(): ProjectionDefinition {
  return {
    name: CHANGESET_PROJECTION,
    categories: ['changeset'],
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
    ],
    tables: [
      { name: 'changesets', key: ['changeset_id'] },
      { name: 'changeset_specs', key: ['spec_event_id'] },
    ],
    // A batch costs one read and one write of the changesets it touches, however many events
    // each has (observations are most of a busy log); events still apply one by one, in order.
    async handle(events: readonly StoredEvent[], ctx: ProjectionContext) {
      const ids = [...new Set(events.map((e) => (e.data as Data).changesetId))];
      const rows = await loadChangesetRows(ctx.tx, ctx.schema, ids);
      for (const event of events) {
        const data = event.data as Data;
        let row = rows.get(data.changesetId);
        if (row === undefined) {
          row = newRow(data);
          rows.set(data.changesetId, row);
        }
        await applyEvent(event, row, ctx);
      }
      const touched = [...rows.values()];
      for (let i = 0; i < touched.length; i += SAVE_CHUNK)
        await saveRows(ctx.tx, ctx.schema, touched.slice(i, i + SAVE_CHUNK));
    },
  };
}

async function applyEvent(
  event: StoredEvent,
  row: ChangesetRow,
  { tx, schema }: ProjectionContext,
): Promise<void> {
  const data = event.data as Data;
  row.streamVersion = event.stream_version;
  const at = event.recorded_at;
  const version = event.stream_version;
  const specOf = async (id: string | undefined) =>
    toBranchSpec(await loadRecordedSpec(tx, schema, id ?? null));

  switch (event.type) {
    case 'ChangesetSpecComputed':
    case 'ChangesetSpecRemoved': {
      const spec = event.type === 'ChangesetSpecComputed' ? (data.spec as ChangesetSpecData) : null;
      await tx.query(
        `INSERT INTO ${schema}.changeset_specs
           (spec_event_id, changeset_id, campaign, repository, head_branch, spec, correlation_id, actor, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (spec_event_id) DO NOTHING`,
        [
          event.event_id,
          data.changesetId,
          data.campaign,
          data.repository,
          data.headBranch,
          spec === null ? null : JSON.stringify(spec),
          event.metadata.correlation_id,
          event.metadata.actor,
          at,
        ],
      );
      row.desiredSpecEventId = event.event_id;
      row.attempts = 0;
      row.lastError = null;
      row.terminalSpecEventId = null;
      await enqueue(tx, schema, row.changesetId, at, version, event.type);
      break;
    }
    case 'ChangesetPublished': {
      row.publicationState = data['draft'] === true ? 'draft' : 'published';
      row.externalState = 'open';
      row.number = data['number'] as number;
      row.url = data['url'] as string;
      row.nodeId = data['nodeId'] as string;
      row.draft = data['draft'] as boolean;
      row.baseRef = data['baseRef'] as string;
      row.title = data['title'] as string;
      row.headRefOid = data['headRefOid'] as string;
      // The event has no body: the reconciler opens the PR with its spec's body (and updates it
      // right after when an already open PR had another).
      row.body = (await specOf(data.specEventId))?.body ?? row.body;
      row.archived = false;
      break;
    }
    case 'ChangesetUpdated': {
      const operation = data['operation'] as string;
      if (data['number'] != null) row.number = data['number'] as number;
      if (operation === 'push') {
        const spec = await specOf(data.specEventId);
        row.lastPushed = {
          diffSha256: data['diffSha256'] as string,
          message: spec?.commit.message ?? '',
          author: spec?.commit.author ?? { name: '', email: '' },
          commitSha: data['commitSha'] as string,
        };
        row.headRefOid = data['commitSha'] as string;
      } else if (operation === 'update') {
        if (typeof data['title'] === 'string') row.title = data['title'];
        if (typeof data['body'] === 'string') row.body = data['body'];
        if (typeof data['baseRef'] === 'string') row.baseRef = data['baseRef'];
      } else if (operation === 'undraft') {
        row.draft = false;
        row.publicationState = 'published';
      } else if (operation === 'convert-to-draft') {
        row.draft = true;
        row.publicationState = 'draft';
      } else if (operation === 'reopen') {
        row.externalState = 'open';
        row.archived = false;
      }
      break;
    }
    case 'ChangesetClosed':
      row.externalState = 'closed';
      break;
    case 'ChangesetReconciled': {
      row.previousSpecEventId = data.specEventId ?? null;
      row.lastReconciledSpecEventId = data.specEventId ?? null;
      row.attempts = 0;
      row.lastError = null;
      if ((data['operations'] as string[]).includes('archive')) row.archived = true;
      if (row.desiredSpecEventId === data.specEventId) await dequeue(tx, schema, row.changesetId);
      else await enqueue(tx, schema, row.changesetId, at, version, 'newer spec', true);
      break;
    }
    case 'ReconcileFailed': {
      if (row.desiredSpecEventId !== data.specEventId) break;
      row.attempts = data['attempt'] as number;
      row.lastError = data['message'] as string;
      if (data['retryable'] === true) {
        const dueAt = new Date(at.getTime() + ((data['retryInMs'] as number | null) ?? 0));
        await enqueue(tx, schema, row.changesetId, dueAt, version, 'retry', true);
      } else {
        row.terminalSpecEventId = data.specEventId ?? null;
        await dequeue(tx, schema, row.changesetId);
      }
      break;
    }
    case 'ChangesetObserved':
      // What people do on the code host (close, push, edit) is recorded, never undone on the
      // spot: the reconciler acts again when the desired state changes (the next apply that
      // changes this changeset), as Sourcegraph does.
      observe(row, data);
      break;
  }
}

/** Applies an observation to the actual state. */
function observe(row: ChangesetRow, data: Data): void {
  const state = data['state'] as 'open' | 'closed' | 'merged' | undefined;
  row.number = data['number'] as number;
  if (typeof data['url'] === 'string') row.url = data['url'];
  if (typeof data['title'] === 'string') row.title = data['title'];
  if (typeof data['draft'] === 'boolean') {
    row.draft = data['draft'];
    if (row.publicationState !== 'unpublished')
      row.publicationState = row.draft ? 'draft' : 'published';
  }
  if (state !== undefined) row.externalState = state;
  if (row.publicationState === 'unpublished' && state === 'open') {
    // Opened by an attempt whose event was never recorded (a crash): it is ours.
    row.publicationState = row.draft ? 'draft' : 'published';
  }
  if (typeof data['headRefOid'] === 'string') {
    row.headRefOid = data['headRefOid'];
    // Someone else pushed: forget what we pushed, so the next reconciliation (a changed spec)
    // pushes the spec's commit again.
    if (
      row.lastPushed !== null &&
      row.lastPushed.commitSha !== row.headRefOid &&
      state !== 'merged'
    )
      row.lastPushed = null;
  }
}
