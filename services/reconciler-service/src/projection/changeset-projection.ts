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
async function saveRecordedSpecs(
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
 * What a batch of events does to one changeset's queue row, folded in event order: `removed`
 * when a dequeue came (the row, lease and all, is deleted first), then at most one upsert. An
 * upsert's `dueAt` replaces the row's time (`replace`, retries and a dequeued row) or the earlier
 * time wins; `dueVersion` only grows.
 */
interface QueueChange {
  removed: boolean;
  upsert: { dueAt: Date; dueVersion: bigint; reason: string; replace: boolean } | null;
}

function enqueue(
  change: QueueChange,
  dueAt: Date,
  version: bigint,
  reason: string,
  replace = false,
): void {
  const u = change.upsert;
  if (u === null) {
    change.upsert = { dueAt, dueVersion: version, reason, replace: replace || change.removed };
    return;
  }
  u.dueAt = replace || dueAt < u.dueAt ? dueAt : u.dueAt;
  u.replace ||= replace;
  u.dueVersion = version > u.dueVersion ? version : u.dueVersion;
  u.reason = reason;
}

function dequeue(change: QueueChange): void {
  change.removed = true;
  change.upsert = null;
}

/** Applies a batch's queue changes: one delete, then one upsert per way of setting `due_at`. */
async function saveQueueChanges(
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
    // A batch costs a constant number of statements however many events and changesets it
    // holds: one read of the rows and of the specs its events refer to, one write of each
    // table. Events still apply one by one, in order.
    async handle(events: readonly StoredEvent[], ctx: ProjectionContext) {
      const ids = [...new Set(events.map((e) => (e.data as Data).changesetId))];
      const rows = await loadChangesetRows(ctx.tx, ctx.schema, ids);
      const inBatch = new Set(events.filter(isSpecEvent).map((e) => e.event_id));
      const referenced = events
        .filter(readsItsSpec)
        .map((e) => (e.data as Data).specEventId)
        .filter((id): id is string => id !== undefined && !inBatch.has(id));
      const specs = await loadRecordedSpecs(ctx.tx, ctx.schema, referenced);
      const recorded: RecordedSpec[] = [];
      const queue = new Map<string, QueueChange>();
      for (const event of events) {
        const data = event.data as Data;
        let row = rows.get(data.changesetId);
        if (row === undefined) {
          row = newRow(data);
          rows.set(data.changesetId, row);
        }
        let change = queue.get(data.changesetId);
        if (change === undefined) {
          change = { removed: false, upsert: null };
          queue.set(data.changesetId, change);
        }
        const spec = applyEvent(event, row, change, specs);
        if (spec !== null) {
          specs.set(spec.specEventId, spec);
          recorded.push(spec);
        }
      }
      await saveRecordedSpecs(ctx.tx, ctx.schema, recorded);
      await saveQueueChanges(ctx.tx, ctx.schema, queue);
      const touched = [...rows.values()];
      for (let i = 0; i < touched.length; i += SAVE_CHUNK)
        await saveRows(ctx.tx, ctx.schema, touched.slice(i, i + SAVE_CHUNK));
    },
  };
}

/** Events whose effect takes a field from the spec they acted on (the body, the commit). */
function readsItsSpec(event: StoredEvent): boolean {
  return (
    event.type === 'ChangesetPublished' ||
    (event.type === 'ChangesetUpdated' && (event.data as Data)['operation'] === 'push')
  );
}

function isSpecEvent(event: StoredEvent): boolean {
  return event.type === 'ChangesetSpecComputed' || event.type === 'ChangesetSpecRemoved';
}

/**
 * Applies one event to its changeset's row and queue change; returns the desired state a spec
 * event records. `specs` holds every spec event the batch's events refer to.
 */
function applyEvent(
  event: StoredEvent,
  row: ChangesetRow,
  queue: QueueChange,
  specs: ReadonlyMap<string, RecordedSpec>,
): RecordedSpec | null {
  const data = event.data as Data;
  row.streamVersion = event.stream_version;
  const at = event.recorded_at;
  const version = event.stream_version;
  const specOf = (id: string | undefined) => toBranchSpec(specs.get(id ?? '') ?? null);

  switch (event.type) {
    case 'ChangesetSpecComputed':
    case 'ChangesetSpecRemoved': {
      const spec = event.type === 'ChangesetSpecComputed' ? (data.spec as ChangesetSpecData) : null;
      row.desiredSpecEventId = event.event_id;
      row.attempts = 0;
      row.lastError = null;
      row.terminalSpecEventId = null;
      enqueue(queue, at, version, event.type);
      return {
        specEventId: event.event_id,
        changesetId: data.changesetId,
        campaign: data.campaign,
        repository: data.repository,
        headBranch: data.headBranch,
        spec,
        correlationId: event.metadata.correlation_id,
        actor: event.metadata.actor,
        recordedAt: at,
      };
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
      row.body = specOf(data.specEventId)?.body ?? row.body;
      row.archived = false;
      break;
    }
    case 'ChangesetUpdated': {
      const operation = data['operation'] as string;
      if (data['number'] != null) row.number = data['number'] as number;
      if (operation === 'push') {
        const spec = specOf(data.specEventId);
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
      if (row.desiredSpecEventId === data.specEventId) dequeue(queue);
      else enqueue(queue, at, version, 'newer spec', true);
      break;
    }
    case 'ReconcileFailed': {
      if (row.desiredSpecEventId !== data.specEventId) break;
      row.attempts = data['attempt'] as number;
      row.lastError = data['message'] as string;
      if (data['retryable'] === true) {
        const dueAt = new Date(at.getTime() + ((data['retryInMs'] as number | null) ?? 0));
        enqueue(queue, dueAt, version, 'retry', true);
      } else {
        row.terminalSpecEventId = data.specEventId ?? null;
        dequeue(queue);
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
  return null;
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
