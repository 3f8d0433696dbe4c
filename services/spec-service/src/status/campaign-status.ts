import {
  CHANGESET_STATES,
  UNCOUNTED_CHANGESET_STATES,
  type CampaignCounts,
  type CampaignPhase,
  type CampaignStatus,
  type CampaignSummary,
  type ChangesetFilter,
  type ChangesetMatch,
  type ChangesetStatus,
  type ExecutionFilter,
  type ExecutionStatus,
  type Problem,
} from '@campaigns/contracts';
import { namespaceKeyPattern } from '@campaigns/events';
import type { EntityManager } from 'typeorm';
import { PmChangeset } from '../desired-state/pm-changeset.entity.js';
import { PmExecution } from '../desired-state/pm-execution.entity.js';
import { StatusCampaign } from './status-campaign.entity.js';
import { matchConditions } from './changeset-match.js';
import { lineCounts, type LineCounts } from './diffstat.js';
import { StatusChangeset } from './status-changeset.entity.js';
import { StatusDeadLetter } from './status-dead-letter.entity.js';
import { StatusExecution } from './status-execution.entity.js';
import { IMPORTED } from './status-evolve.js';

/*
 * What the status projection's rows mean, read by the database: a changeset's displayed state,
 * whether it converged, which executions are done, and the counts the phase is decided from.
 * Each is one SQL expression below, used by the counts and by the pages alike. Two inputs come
 * from the desired-state process manager's tables (`pm_executions.handled`/`render_error`,
 * `pm_changesets.last_event_id`/`removed`): it is ahead of the status projection, and only it
 * knows whether an execution's result has been rendered into the desired state.
 */

/** `s` (status_changesets): the code host's state when it exists there, else the desired one. */
const CHANGESET_STATE = `CASE
  WHEN s.host_state = 'merged' THEN 'merged'
  WHEN NOT s.wanted AND s.published = '${IMPORTED}' AND s.host_state IS NOT NULL THEN 'detached'
  WHEN NOT s.wanted THEN CASE WHEN s.host_state IN ('open', 'draft') THEN s.host_state
    WHEN s.host_state = 'closed' THEN 'archived' ELSE 'removed' END
  WHEN s.host_state IS NOT NULL THEN s.host_state
  WHEN s.published = 'false' THEN 'unpublished'
  WHEN s.scheduled_for IS NOT NULL THEN 'scheduled'
  ELSE 'pending' END`;

/**
 * `s` and `p` (pm_changesets): the reconciler converged on the spec the status projection has,
 * and that is the newest the process manager recorded (until the status projection has seen a
 * newer one, the older spec's reconciliation says nothing).
 */
const CHANGESET_CONVERGED = `(coalesce(s.reconciled_spec_event_id = s.spec_event_id, false)
  AND (p.last_event_id IS NULL OR p.last_event_id = s.spec_event_id))`;

/** A state of `CHANGESET_STATE` counted among the campaign's changesets. */
const CHANGESET_COUNTED = `(${CHANGESET_STATE}) NOT IN (${UNCOUNTED_CHANGESET_STATES.map((st) => `'${st}'`).join(', ')})`;

/** Changesets by state, every state named (an aggregate over `s`). */
const STATE_COUNTS = `jsonb_build_object(${CHANGESET_STATES.map(
  (st) => `'${st}', count(*) FILTER (WHERE ${CHANGESET_STATE} = '${st}')`,
).join(', ')})`;
/** The same for a campaign without changesets. */
const NO_STATES = `jsonb_build_object(${CHANGESET_STATES.map((st) => `'${st}', 0`).join(', ')})`;

const CHANGESET_TERMINAL = `(s.last_error IS NOT NULL AND s.error_terminal)`;

/** `e` (status_executions) and `p` (pm_executions): its steps or its rendering failed. */
const EXECUTION_FAILED = `(p.render_error IS NOT NULL OR e.state = 'failed')`;

/** Failed, empty, or succeeded and rendered into the desired state by the process manager. */
const EXECUTION_DONE = `(${EXECUTION_FAILED} OR e.state = 'empty'
  OR (e.state = 'succeeded' AND coalesce(p.handled, false)))`;

/**
 * Tables with the process manager's columns these queries read, for a schema that stands in for
 * the live one (`campaign audit --at` fills them from the log: the process manager itself does
 * I/O and cannot be replayed).
 */
export function processManagerStandInSql(schema: string): string {
  return `
CREATE TABLE ${schema}.pm_executions (
  execution_id text PRIMARY KEY,
  handled boolean NOT NULL,
  render_error text
);
CREATE TABLE ${schema}.pm_changesets (
  changeset_id text PRIMARY KEY,
  campaign text NOT NULL,
  removed boolean NOT NULL,
  last_event_id uuid NOT NULL
);`;
}

/**
 * The entities these queries read: a DataSource they run over must list them (with the stand-in
 * tables above, the process manager's two are read through theirs).
 */
export const CAMPAIGN_STATUS_ENTITIES = [
  StatusCampaign,
  StatusExecution,
  StatusChangeset,
  StatusDeadLetter,
  PmExecution,
  PmChangeset,
] as const;

/** The largest diff whose lines a changesets page counts (`diffstat`). */
const MAX_COUNTED_DIFF_BYTES = 1024 * 1024;

/** Dead letters listed in a summary; the rest are counted. */
const LISTED_DEAD_LETTERS = 10;

/** What the phase is decided from: counts over the current application's rows. */
export interface StatusFacts {
  /** Closed by `campaign close`. */
  campaignClosed?: boolean;
  resolved: boolean;
  resolutionError: string | null;
  /** Events of this application a consumer gave up on. */
  deadLettered: number;
  workspaces: number;
  executed: number;
  failed: number;
  /** Changesets whose last error is terminal. */
  terminal: number;
  /** Changesets not converged that still can (no terminal error). */
  converging: number;
  /** Changesets the process manager wants that the status projection has not seen yet. */
  unseen: number;
}

/**
 * The campaign's phase. A stage that cannot go on (resolution failed, a consumer gave up on an
 * event) needs attention at once; otherwise executing until every execution is done,
 * reconciling until every changeset that can converge has, then complete unless something failed.
 */
export function campaignPhase(f: StatusFacts): CampaignPhase {
  if (f.campaignClosed === true) return 'closed';
  if (f.resolutionError !== null || f.deadLettered > 0) return 'needs-attention';
  if (!f.resolved || f.executed < f.workspaces) return 'executing';
  if (f.unseen > 0 || f.converging > 0) return 'reconciling';
  return f.failed > 0 || f.terminal > 0 ? 'needs-attention' : 'complete';
}

interface CampaignRow {
  campaign: string;
  apply_id: string;
  spec_hash: string;
  actor: string;
  applied_at: Date;
  resolved: boolean;
  resolution_error: string | null;
  problems: Problem[];
  closed_at: Date | null;
  closed_by: string | null;
}

type AggregateRow = CampaignRow &
  Omit<StatusFacts, 'resolved' | 'resolutionError' | 'campaignClosed'> &
  Omit<CampaignCounts, 'workspaces' | 'executed' | 'failed' | 'deadLettered'>;

/** A page's position: the key of the last row of the previous page. */
export type PageKey = readonly [string, string];
/** An execution's place in its pages: repository, path, branch ('' when unknown). */
export type ExecutionPageKey = readonly [string, string, string];

/**
 * Reads summaries and pages from the status projection (and the process manager's tables) in
 * `schema`; every answer is computed by the database and bounded by what is asked. The live
 * service reads its own schema; `campaign audit --at` reads a copy rebuilt from the log in the
 * session's temporary tables.
 *
 * `manager`'s connection must find the tables in `schema` by their bare names (the entities name
 * no schema): `schema` is the one its connection searches, or `pg_temp`, whose tables come first.
 */
export class CampaignStatusQueries {
  constructor(
    private readonly manager: EntityManager,
    private readonly schema: string,
  ) {}

  /** The campaign's summary; null when it was never applied. */
  async summary(campaign: string): Promise<CampaignStatus | null> {
    const [row] = await this.aggregates({ campaigns: [campaign] });
    if (row === undefined) return null;
    const facts = factsOf(row);
    return {
      campaign: row.campaign,
      applyId: row.apply_id,
      specHash: row.spec_hash,
      appliedAt: row.applied_at.toISOString(),
      actor: row.actor,
      phase: campaignPhase(facts),
      counts: {
        workspaces: row.workspaces,
        executed: row.executed,
        failed: row.failed,
        noChanges: row.noChanges,
        changesets: row.changesets,
        published: row.published,
        errored: row.errored,
        open: row.open,
        merged: row.merged,
        closed: row.closed,
        deadLettered: row.deadLettered,
        states: row.states,
      },
      problems: [
        ...row.problems,
        ...(row.resolution_error === null
          ? []
          : [{ entry: 'on', message: `resolving workspaces failed: ${row.resolution_error}` }]),
        ...(await this.deadLetterProblems(row)),
      ],
      ...(row.closed_at === null
        ? {}
        : { closed: { at: row.closed_at.toISOString(), by: row.closed_by ?? '' } }),
    };
  }

  /** Campaigns after `after` in name order, summarised. */
  /** The campaigns after `after` by key; only those of `namespace` when given. */
  /** Campaigns in key order after `after`: of these namespaces, or of all when none are given. */
  async list(
    after: string | null,
    limit: number,
    namespaces?: readonly string[],
  ): Promise<CampaignSummary[]> {
    const rows = await this.aggregates({ after, limit, namespaces });
    return rows.map((row) => ({
      campaign: row.campaign,
      appliedAt: row.applied_at.toISOString(),
      actor: row.actor,
      phase: campaignPhase(factsOf(row)),
      changesets: row.changesets,
      open: row.open,
      merged: row.merged,
    }));
  }

  /** The campaign's changesets after `after` in (repository, head branch) order. */
  async changesets(
    campaign: string,
    after: PageKey | null,
    limit: number,
    filter: ChangesetFilter = 'all',
    match: ChangesetMatch = {},
    diffstat = false,
  ): Promise<ChangesetStatus[]> {
    const query = this.manager
      .createQueryBuilder(StatusChangeset, 's')
      .leftJoin(PmChangeset, 'p', 'p.changeset_id = s.changeset_id')
      .select('s.repository', 'repository')
      .addSelect('s.head_branch', 'headBranch')
      .addSelect('s.workspace_path', 'path')
      .addSelect(CHANGESET_STATE, 'state')
      .addSelect('s.draft', 'draft')
      .addSelect('s.checks', 'checks')
      .addSelect('s.review', 'review')
      .addSelect('s.url', 'url')
      .addSelect('s.number', 'number')
      .addSelect('s.last_error', 'lastError')
      .addSelect('s.error_terminal', 'errorTerminal')
      .addSelect(CHANGESET_CONVERGED, 'converged')
      .addSelect('s.updated_at', 'updatedAt')
      .addSelect(`s.published = '${IMPORTED}'`, 'imported')
      .addSelect('s.scheduled_for', 'scheduledFor')
      .addSelect('s.title', 'title')
      .addSelect('s.base_branch', 'baseBranch')
      .addSelect('s.files_changed', 'filesChanged')
      .addSelect('s.diff_sha256', 'diffSha256')
      .where('s.campaign = :campaign', { campaign });
    if (after !== null)
      query.andWhere('(s.repository, s.head_branch) > (:repository, :headBranch)', {
        repository: after[0],
        headBranch: after[1],
      });
    if (filter === 'errored') query.andWhere('s.last_error IS NOT NULL');
    for (const c of matchConditions(match, CHANGESET_STATE)) query.andWhere(c.sql, c.params);
    const rows = await query
      .orderBy('s.repository')
      .addOrderBy('s.head_branch')
      .limit(limit)
      .getRawMany<
        Omit<ChangesetStatus, 'path' | 'imported' | 'scheduledFor' | 'title' | 'baseBranch'> & {
          path: string | null;
          updatedAt: Date;
          imported: boolean;
          scheduledFor: string | null;
          title: string | null;
          baseBranch: string | null;
          filesChanged: number | null;
          diffSha256: string | null;
        }
      >();
    const lines = diffstat
      ? await this.lineCounts(rows.flatMap((r) => (r.diffSha256 === null ? [] : [r.diffSha256])))
      : new Map<string, LineCounts>();
    // The path only when the workspace is not the repository's root (and is known).
    return rows.map(
      ({ path, imported, scheduledFor, title, baseBranch, filesChanged, diffSha256, ...r }) => ({
        ...r,
        ...(path === null || path === '' ? {} : { path }),
        ...(imported ? { imported: true as const } : {}),
        // Only while it waits for its slot.
        ...(r.state === 'scheduled' ? { scheduledFor: scheduledFor || null } : {}),
        ...(title === null ? {} : { title }),
        ...(baseBranch === null ? {} : { baseBranch }),
        ...(filesChanged === null
          ? {}
          : { diffstat: { files: filesChanged, ...lines.get(diffSha256 ?? '') } }),
        updatedAt: r.updatedAt.toISOString(),
      }),
    );
  }

  /**
   * The added and deleted lines of these diffs, read from the event store's blobs (the service's
   * database holds them). Diffs over MAX_COUNTED_DIFF_BYTES are left uncounted: a page is
   * answered without reading more than a page's worth of them.
   */
  private async lineCounts(sha256s: readonly string[]): Promise<Map<string, LineCounts>> {
    if (sha256s.length === 0) return new Map();
    const rows: { sha256: string; content: Buffer }[] = await this.manager.query(
      'SELECT sha256, content FROM eventstore.blobs WHERE sha256 = ANY ($1::text[]) AND size <= $2',
      [[...new Set(sha256s)], MAX_COUNTED_DIFF_BYTES],
    );
    return new Map(rows.map((r) => [r.sha256, lineCounts(r.content.toString('utf8'))]));
  }

  /**
   * The ids of the campaign's changesets that match, after `after` in id order: what a bulk
   * operation acts on, the same rows `changesets` lists with the same match.
   */
  async matchingChangesets(
    campaign: string,
    match: ChangesetMatch,
    after: string | null,
    limit: number,
  ): Promise<{ changesetId: string; repository: string; headBranch: string }[]> {
    const query = this.manager
      .createQueryBuilder(StatusChangeset, 's')
      .select('s.changeset_id', 'changesetId')
      .addSelect('s.repository', 'repository')
      .addSelect('s.head_branch', 'headBranch')
      .where('s.campaign = :campaign', { campaign });
    if (after !== null) query.andWhere('s.changeset_id > :after', { after });
    for (const c of matchConditions(match, CHANGESET_STATE)) query.andWhere(c.sql, c.params);
    return query.orderBy('s.changeset_id').limit(limit).getRawMany();
  }

  /** The campaign's current application; null when it was never applied. */
  async currentApplyId(campaign: string): Promise<string | null> {
    const row = await this.manager
      .createQueryBuilder(StatusCampaign, 'c')
      .select('c.apply_id', 'apply_id')
      .where('c.campaign = :campaign', { campaign })
      .getRawOne<{ apply_id: string }>();
    return row?.apply_id ?? null;
  }

  /** One application's executions after `after` in (repository, path, branch) order. */
  async executions(
    campaign: string,
    applyId: string,
    after: ExecutionPageKey | null,
    limit: number,
    filter: ExecutionFilter = 'all',
  ): Promise<ExecutionStatus[]> {
    const query = this.manager
      .createQueryBuilder(StatusExecution, 'e')
      .leftJoin(PmExecution, 'p', 'p.execution_id = e.execution_id')
      .select('e.repository', 'repository')
      .addSelect('e.path', 'path')
      .addSelect('e.branch', 'branch')
      .addSelect(`CASE WHEN p.render_error IS NULL THEN e.state ELSE 'failed' END`, 'state')
      .addSelect(
        `CASE WHEN p.render_error IS NULL THEN e.message
              ELSE 'rendering the changeset template failed: ' || p.render_error END`,
        'message',
      )
      .addSelect('CASE WHEN p.render_error IS NULL THEN e.stderr_tail END', 'stderrTail')
      .where('e.campaign = :campaign AND e.apply_id = :applyId', { campaign, applyId });
    if (after !== null)
      query.andWhere(
        "(e.repository, e.path, coalesce(e.branch, '')) > (:repository, :path, :branch)",
        {
          repository: after[0],
          path: after[1],
          branch: after[2],
        },
      );
    if (filter === 'failed') query.andWhere(EXECUTION_FAILED);
    return query
      .orderBy('e.repository')
      .addOrderBy('e.path')
      .addOrderBy("coalesce(e.branch, '')")
      .limit(limit)
      .getRawMany<ExecutionStatus & { branch: string | null }>()
      .then((rows) =>
        rows.map(({ branch, ...row }) => (branch === null ? row : { ...row, branch })),
      );
  }

  /** Each campaign's row with its counts: the named ones, or a page of all in name order. */
  private async aggregates(
    which:
      | { campaigns: readonly string[] }
      | { after: string | null; limit: number; namespaces?: readonly string[] | undefined },
  ): Promise<AggregateRow[]> {
    const s = this.schema;
    const chosen =
      'campaigns' in which
        ? { sql: `WHERE campaign = ANY ($1::text[])`, params: [which.campaigns] }
        : which.namespaces === undefined
          ? {
              sql: `WHERE $1::text IS NULL OR campaign > $1 ORDER BY campaign LIMIT $2`,
              params: [which.after, which.limit],
            }
          : namespacesChosen(which.after, which.limit, which.namespaces);
    // Raw: one statement of CTEs computes every count, which the QueryBuilder cannot express.
    const rows: AggregateRow[] = await this.manager.query(
      `WITH c AS (SELECT * FROM ${s}.status_campaigns ${chosen.sql}),
       ex AS (
         SELECT e.campaign, count(*)::int AS workspaces,
                count(*) FILTER (WHERE ${EXECUTION_DONE})::int AS executed,
                count(*) FILTER (WHERE ${EXECUTION_FAILED})::int AS failed,
                count(*) FILTER (WHERE e.state = 'empty' AND NOT ${EXECUTION_FAILED})::int AS "noChanges"
           FROM c JOIN ${s}.status_executions e ON e.campaign = c.campaign AND e.apply_id = c.apply_id
           LEFT JOIN ${s}.pm_executions p ON p.execution_id = e.execution_id
          GROUP BY e.campaign),
       cs AS (
         SELECT s.campaign,
                count(*) FILTER (WHERE ${CHANGESET_COUNTED})::int AS changesets,
                count(*) FILTER (WHERE s.number IS NOT NULL AND ${CHANGESET_COUNTED})::int AS published,
                ${STATE_COUNTS} AS states,
                count(*) FILTER (WHERE s.last_error IS NOT NULL)::int AS errored,
                count(*) FILTER (WHERE ${CHANGESET_TERMINAL})::int AS terminal,
                count(*) FILTER (WHERE NOT ${CHANGESET_CONVERGED} AND NOT ${CHANGESET_TERMINAL})::int AS converging,
                count(*) FILTER (WHERE ${CHANGESET_STATE} IN ('open', 'draft'))::int AS open,
                count(*) FILTER (WHERE s.host_state = 'merged')::int AS merged,
                count(*) FILTER (WHERE ${CHANGESET_STATE} = 'closed')::int AS closed
           FROM c JOIN ${s}.status_changesets s ON s.campaign = c.campaign
           LEFT JOIN ${s}.pm_changesets p ON p.changeset_id = s.changeset_id
          GROUP BY s.campaign),
       unseen AS (
         SELECT p.campaign, count(*)::int AS n
           FROM c JOIN ${s}.pm_changesets p ON p.campaign = c.campaign
          WHERE NOT p.removed
            AND NOT EXISTS (SELECT 1 FROM ${s}.status_changesets s WHERE s.changeset_id = p.changeset_id)
          GROUP BY p.campaign),
       dl AS (
         SELECT d.campaign, count(*)::int AS n
           FROM c JOIN ${s}.status_dead_letters d ON d.campaign = c.campaign AND d.apply_id = c.apply_id
          GROUP BY d.campaign)
       SELECT c.campaign, c.apply_id, c.spec_hash, c.actor, c.applied_at, c.resolved,
              c.resolution_error, c.problems, c.closed_at, c.closed_by,
              greatest(coalesce(ex.workspaces, 0), coalesce(c.workspace_count, 0)) AS workspaces,
              coalesce(ex.executed, 0) AS executed,
              coalesce(ex.failed, 0) AS failed, coalesce(ex."noChanges", 0) AS "noChanges",
              coalesce(cs.states, ${NO_STATES}) AS states,
              coalesce(cs.changesets, 0) AS changesets,
              coalesce(cs.published, 0) AS published, coalesce(cs.errored, 0) AS errored,
              coalesce(cs.terminal, 0) AS terminal, coalesce(cs.converging, 0) AS converging,
              coalesce(cs.open, 0) AS open, coalesce(cs.merged, 0) AS merged,
              coalesce(cs.closed, 0) AS closed, coalesce(unseen.n, 0) AS unseen,
              coalesce(dl.n, 0) AS "deadLettered"
         FROM c LEFT JOIN ex USING (campaign) LEFT JOIN cs USING (campaign)
         LEFT JOIN unseen USING (campaign) LEFT JOIN dl USING (campaign)
        ORDER BY c.campaign`,
      chosen.params,
    );
    return rows;
  }

  /** The first dead letters of the current application, each naming consumer, event and error. */
  private async deadLetterProblems(row: AggregateRow): Promise<Problem[]> {
    if (row.deadLettered === 0) return [];
    const rows = await this.manager
      .createQueryBuilder(StatusDeadLetter, 'd')
      .select('d.consumer', 'consumer')
      .addSelect('d.dead_event_id', 'dead_event_id')
      .addSelect('d.dead_event_type', 'dead_event_type')
      .addSelect('d.error', 'error')
      .addSelect('d.attempts', 'attempts')
      .where('d.campaign = :campaign AND d.apply_id = :applyId', {
        campaign: row.campaign,
        applyId: row.apply_id,
      })
      .orderBy('d.recorded_at')
      .addOrderBy('d.event_id')
      .limit(LISTED_DEAD_LETTERS)
      .getRawMany<{
        consumer: string;
        dead_event_id: string;
        dead_event_type: string;
        error: string;
        attempts: number;
      }>();
    const listed = rows.map((d) => ({
      entry: `consumer ${d.consumer}`,
      message: `gave up on ${d.dead_event_type} ${d.dead_event_id} after ${d.attempts} attempts: ${d.error}`,
    }));
    const more = row.deadLettered - listed.length;
    return more > 0
      ? [...listed, { entry: 'consumers', message: `gave up on ${more} more events` }]
      : listed;
  }
}

function factsOf(row: AggregateRow): StatusFacts {
  return {
    campaignClosed: row.closed_at !== null,
    resolved: row.resolved,
    resolutionError: row.resolution_error,
    deadLettered: row.deadLettered,
    workspaces: row.workspaces,
    executed: row.executed,
    failed: row.failed,
    terminal: row.terminal,
    converging: row.converging,
    unseen: row.unseen,
  };
}

/** The `status_campaigns` filter of some namespaces' page: their keys (namespaces.ts) after `after`. */
function namespacesChosen(
  after: string | null,
  limit: number,
  namespaces: readonly string[],
): { sql: string; params: unknown[] } {
  const patterns = namespaces.map(namespaceKeyPattern);
  // `default`'s campaigns are the keys without a namespace (NOT LIKE '%/%'); the others' match.
  const bare = patterns.some((p) => p.negate);
  const likes = patterns.filter((p) => !p.negate).map((p) => p.like);
  return {
    sql: `WHERE ($1::text IS NULL OR campaign > $1)
            AND (${bare ? `campaign NOT LIKE '%/%' OR ` : ''}campaign LIKE ANY ($3::text[]))
          ORDER BY campaign LIMIT $2`,
    params: [after, limit, likes],
  };
}
