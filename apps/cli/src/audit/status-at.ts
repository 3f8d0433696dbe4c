import {
  campaignsCatalogue,
  poolOf,
  PostgresEventStore,
  StreamOrder,
  type StoredEvent,
} from '@campaigns/events';
import {
  MAX_PAGE_ROWS,
  type ChangesetStatus,
  type ExecutionStatus,
  type FullCampaignStatus,
} from '@campaigns/contracts';
import type { ExecutionPageKey as ExecutionKey, PageKey } from '@campaigns/spec-service';
import type pg from 'pg';
import { campaignEvents, readOnly } from '@campaigns/audit';
import { auditDatabase } from './audit-store.js';

/** The projection's tables are rebuilt in the session's temporary schema: nothing durable is written. */
const SCRATCH = 'pg_temp';
const BATCH = 500;

/** Event ids of the desired-state events (ChangesetSpecComputed/Removed, ChangesetImportRequested) of each changeset, last one up to T. */
const DESIRED_TYPES = new Set([
  'ChangesetSpecComputed',
  'ChangesetSpecRemoved',
  'ChangesetImportRequested',
]);

export interface StatusAt {
  status: FullCampaignStatus;
  /** Events of the campaign replayed (recorded at or before `at`). */
  events: number;
}

/**
 * The campaign's status as `campaign status` would have shown it at `at`, rebuilt from the log:
 * the spec-service's status projection replayed from the campaign's events recorded up to `at`,
 * read with the same queries as the live one. The process manager's own state is not replayable
 * (it does I/O), so the two inputs the queries take from its tables are derived from the log
 * into stand-in tables:
 *
 * - an execution is *rendered* once an event caused by its PatchComputed (ChangesetSpecComputed,
 *   ChangesetSpecRemoved or ChangesetRenderFailed) is recorded by `at`; a PatchComputed that caused no event anywhere in
 *   the log (its rendering changed nothing, or failed: render failures are not events) counts as
 *   rendered from its own time, with no render error;
 * - a changeset's *desired event* is its last ChangesetSpecComputed/Removed or
 *   ChangesetImportRequested recorded by `at`.
 *
 * Returns null when the campaign had not been applied by `at`.
 */
export async function campaignStatusAt(
  env: NodeJS.ProcessEnv,
  campaign: string,
  at: Date,
): Promise<StatusAt | null> {
  const spec = await import('@campaigns/spec-service');
  const projection = spec.statusProjection();
  const database = await auditDatabase(env, [
    ...projection.entities,
    ...spec.CAMPAIGN_STATUS_ENTITIES,
  ]);
  const runner = database.createQueryRunner();
  const { manager } = runner;
  try {
    const session = (await runner.connect()) as pg.PoolClient;
    const store = new PostgresEventStore(poolOf(database), campaignsCatalogue());
    return await readOnly(
      session,
      async (db) => {
        const events = (await campaignEvents(db, campaign, { until: at })).map((e) =>
          store.upcast(e),
        );
        // Each stream in version order, as the live consumer applied it (see StreamOrder).
        const ordered = new StreamOrder<StoredEvent>().push(events);
        for (let i = 0; i < ordered.length; i += BATCH) {
          await projection.handle(ordered.slice(i, i + BATCH), {
            tx: db,
            manager,
            schema: SCRATCH,
          });
        }
        const rendered = await renderedExecutions(db, campaign, events, at);
        await db.query(
          `INSERT INTO ${SCRATCH}.pm_executions (execution_id, handled, render_error)
         SELECT id, true, NULL FROM unnest($1::text[]) AS id`,
          [[...rendered]],
        );
        const desired = [...desiredEvents(events).values()];
        await db.query(
          `INSERT INTO ${SCRATCH}.pm_changesets (changeset_id, campaign, removed, last_event_id)
         SELECT id, $1, removed, event_id FROM unnest($2::text[], $3::boolean[], $4::uuid[])
             AS d(id, removed, event_id)`,
          [
            campaign,
            desired.map((d) => d.changesetId),
            desired.map((d) => d.type === 'ChangesetSpecRemoved'),
            desired.map((d) => d.eventId),
          ],
        );

        const queries = new spec.CampaignStatusQueries(manager, SCRATCH);
        const summary = await queries.summary(campaign);
        if (summary === null) return null;
        const status: FullCampaignStatus = {
          ...summary,
          executions: await allPages<ExecutionStatus, ExecutionKey>(
            (after) => queries.executions(campaign, summary.applyId, after, MAX_PAGE_ROWS),
            (e): ExecutionKey => [e.repository, e.path, e.branch ?? ''],
          ),
          changesets: await allPages<ChangesetStatus, PageKey>(
            (after) => queries.changesets(campaign, after, MAX_PAGE_ROWS),
            (c): PageKey => [c.repository, c.headBranch],
          ),
        };
        return { status, events: events.length };
      },
      async (db) => {
        for (const m of projection.migrations(SCRATCH)) await db.query(m.sql);
        await db.query(spec.processManagerStandInSql(SCRATCH));
      },
    );
  } finally {
    await runner.release();
    await database.destroy();
  }
}

/** Every row, read page by page in key order. */
async function allPages<T, K extends readonly string[]>(
  read: (after: K | null) => Promise<T[]>,
  keyOf: (row: T) => K,
): Promise<T[]> {
  const out: T[] = [];
  for (let after: K | null = null; ;) {
    const page = await read(after);
    out.push(...page);
    if (page.length < MAX_PAGE_ROWS) return out;
    after = keyOf(page.at(-1)!);
  }
}

/** The last desired-state event of each changeset among `events`. */
export function desiredEvents(
  events: readonly StoredEvent[],
): Map<string, { changesetId: string; eventId: string; type: string }> {
  const out = new Map<string, { changesetId: string; eventId: string; type: string }>();
  for (const e of events) {
    if (!DESIRED_TYPES.has(e.type)) continue;
    const changesetId = (e.data as { changesetId: string }).changesetId;
    out.set(changesetId, { changesetId, eventId: e.event_id, type: e.type });
  }
  return out;
}

/** Executions whose PatchComputed (among `events`, up to `at`) the process manager had handled by `at`. */
async function renderedExecutions(
  db: pg.ClientBase,
  campaign: string,
  events: readonly StoredEvent[],
  at: Date,
): Promise<Set<string>> {
  const patches = new Map<string, string>(); // PatchComputed event id → execution id
  // What the process manager records for a handled PatchComputed: desired states, or the
  // template's failure to render.
  const outcomes = [...DESIRED_TYPES, 'ChangesetRenderFailed'];
  for (const e of events) {
    if (e.type === 'PatchComputed')
      patches.set(e.event_id, (e.data as { executionId: string }).executionId);
  }
  if (patches.size === 0) return new Set();
  // The whole log, past `at` too: whether the rendering ever caused an event, and when.
  const { rows } = await db.query<{ cause: string; by_then: boolean }>(
    `SELECT metadata->>'causation_id' AS cause, bool_or(recorded_at <= $4) AS by_then
       FROM eventstore.events
      WHERE data->>'campaign' = $1 AND type = ANY ($2::text[])
        AND metadata->>'causation_id' = ANY ($3::text[])
      GROUP BY 1`,
    [campaign, outcomes, [...patches.keys()], at.toISOString()],
  );
  const caused = new Map(rows.map((r) => [r.cause, r.by_then]));
  const out = new Set<string>();
  for (const [eventId, executionId] of patches) {
    const byThen = caused.get(eventId);
    if (byThen === undefined || byThen) out.add(executionId);
  }
  return out;
}
