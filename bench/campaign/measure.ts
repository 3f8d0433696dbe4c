// What `npm run bench:campaign` reads to describe a phase: the event store (events appended,
// stage times from recorded_at, database size), the simulator's request log, and, when a phase
// does not finish, what is missing.
import type pg from 'pg';
import type { ControlClient } from '../../tools/github-sim/src/control/control-client.js';
import type { RequestLogEntry } from '../../tools/github-sim/src/sim-core.js';

/** The last global position: events of a phase are those after it. */
export async function eventMark(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ mark: string }>(
    'SELECT coalesce(max(global_position), 0)::text AS mark FROM eventstore.events',
  );
  return rows[0]!.mark;
}

export async function databaseBytes(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ bytes: string }>(
    'SELECT pg_database_size(current_database())::text AS bytes',
  );
  return Number(rows[0]!.bytes);
}

interface TypeTimes {
  count: number;
  first: Date;
  last: Date;
}

/** Per event type appended after `mark`: how many, first and last recorded_at. */
export async function eventsSince(pool: pg.Pool, mark: string): Promise<Map<string, TypeTimes>> {
  const { rows } = await pool.query<{ type: string; count: number; first: Date; last: Date }>(
    `SELECT type, count(*)::int AS count, min(recorded_at) AS first, max(recorded_at) AS last
       FROM eventstore.events WHERE global_position > $1::bigint GROUP BY type`,
    [mark],
  );
  return new Map(rows.map((r) => [r.type, { count: r.count, first: r.first, last: r.last }]));
}

/** The pipeline's stages and the events that mark each one's work. */
export const STAGES = {
  resolve: ['SpecApplied', 'WorkspacesResolved'],
  execute: ['PatchComputed', 'ExecutionFailed'],
  render: ['ChangesetSpecComputed', 'ChangesetSpecRemoved', 'ChangesetRenderFailed'],
  // A first publish is a push (ChangesetUpdated) then the pull request (ChangesetPublished);
  // a re-apply updates (title: `update`, new diff: `push`).
  publish: ['ChangesetUpdated', 'ChangesetPublished'],
} as const;
export type StageName = keyof typeof STAGES;

export interface StageTime {
  /** Seconds from the stage's first to its last event in the phase. */
  span_s: number;
  /** Seconds from the previous stage's last event to this stage's last event. */
  tail_s: number;
  events: number;
}

/**
 * Span and tail of each stage present in the phase. Resolve's span runs from SpecApplied to
 * WorkspacesResolved and has no previous stage, so its tail is its span.
 */
export function stageTimes(byType: Map<string, TypeTimes>): Record<StageName, StageTime | null> {
  const result = {} as Record<StageName, StageTime | null>;
  let previousLast: Date | undefined;
  for (const [stage, types] of Object.entries(STAGES) as [StageName, readonly string[]][]) {
    const present = types.map((type) => byType.get(type)).filter((t) => t !== undefined);
    if (present.length === 0) {
      result[stage] = null;
      continue;
    }
    const first = Math.min(...present.map((t) => t.first.getTime()));
    const last = Math.max(...present.map((t) => t.last.getTime()));
    result[stage] = {
      span_s: seconds(last - first),
      tail_s: seconds(last - (previousLast?.getTime() ?? first)),
      events: present.reduce((n, t) => n + t.count, 0),
    };
    previousLast = new Date(last);
  }
  return result;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export type RequestKind = 'rest' | 'graphql' | 'git' | 'other';

/**
 * Code-host requests from the simulator's request log, read incrementally with `since`: the log
 * keeps at most 100,000 entries, so a long phase is drained while it runs. A gap in the sequence
 * numbers means entries were dropped before they were read; `truncated` says so.
 */
export class RequestCounter {
  byKind: Record<RequestKind, number> = { rest: 0, graphql: 0, git: 0, other: 0 };
  /** `METHOD path` with names and numbers generalised, for the busiest endpoints. */
  byEndpoint = new Map<string, number>();
  errors = 0;
  truncated = false;
  #lastSeq: number | undefined;

  constructor(private readonly control: ControlClient) {}

  /** Clears the simulator's log and starts counting from nothing. */
  async restart(): Promise<void> {
    await this.control.clearRequests();
    this.byKind = { rest: 0, graphql: 0, git: 0, other: 0 };
    this.byEndpoint = new Map();
    this.errors = 0;
    this.truncated = false;
    this.#lastSeq = undefined;
    await this.drain();
  }

  async drain(): Promise<void> {
    const entries = await this.control.requests(
      this.#lastSeq === undefined ? {} : { since: this.#lastSeq },
    );
    if (entries.length === 0) return;
    if (this.#lastSeq !== undefined && entries[0]!.seq !== this.#lastSeq + 1) this.truncated = true;
    for (const entry of entries) this.count(entry);
    this.#lastSeq = entries.at(-1)!.seq;
  }

  get total(): number {
    return Object.values(this.byKind).reduce((a, b) => a + b, 0);
  }

  topEndpoints(limit: number): Record<string, number> {
    return Object.fromEntries([...this.byEndpoint].sort((a, b) => b[1] - a[1]).slice(0, limit));
  }

  private count(entry: RequestLogEntry): void {
    // The benchmark's own polling goes through the control API; everything else is the services.
    if (entry.kind === 'control') return;
    this.byKind[entry.kind]++;
    if (entry.status >= 400 || entry.status === 0) this.errors++;
    const endpoint = `${entry.method} ${generalise(entry.path)}`;
    this.byEndpoint.set(endpoint, (this.byEndpoint.get(endpoint) ?? 0) + 1);
  }
}

function generalise(path: string): string {
  return path
    .replace(/^\/api\/v3\/repos\/[^/]+\/[^/]+/, '/api/v3/repos/:owner/:repo')
    .replace(/^\/[^/]+\/[^/]+?\.git\//, '/:owner/:repo.git/')
    .replace(/\/[0-9a-f]{40}(?=\/|$)/g, '/:sha')
    .replace(/\/\d+(?=\/|$)/g, '/:n');
}

export interface OldTransaction {
  seconds: number;
  database: string;
  query: string;
}

/**
 * The oldest open transaction on the whole server that holds a transaction id. The relay
 * publishes only events below the server-wide snapshot xmin, so such a transaction — in any
 * database — holds back every service's events while it stays open.
 */
export async function oldestWriteTransaction(pool: pg.Pool): Promise<OldTransaction | null> {
  const { rows } = await pool.query<{ seconds: number; database: string; query: string }>(
    `SELECT extract(epoch FROM now() - xact_start)::float8 AS seconds, datname AS database,
            left(query, 200) AS query
       FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL AND xact_start IS NOT NULL
      ORDER BY xact_start LIMIT 1`,
  );
  return rows[0] ?? null;
}

/** What to print when a phase did not finish: recent events, failures, dead letters. */
export async function diagnostics(pool: pg.Pool, mark: string): Promise<string[]> {
  const lines: string[] = [];
  const { rows: last } = await pool.query<{
    position: string;
    recorded_at: Date;
    type: string;
    stream_id: string;
  }>(
    `SELECT global_position::text AS position, recorded_at, type, stream_id FROM eventstore.events
      ORDER BY events.global_position DESC LIMIT 15`,
  );
  lines.push('last events:');
  for (const e of last.reverse()) {
    lines.push(`  #${e.position} ${e.recorded_at.toISOString()} ${e.type} ${e.stream_id}`);
  }
  const { rows: failures } = await pool.query<{ type: string; count: number; sample: string }>(
    `SELECT type, count(*)::int AS count,
            (array_agg(coalesce(data->>'message', data->>'reason', '') ORDER BY global_position DESC))[1] AS sample
       FROM eventstore.events
      WHERE global_position > $1::bigint
        AND type IN ('ReconcileFailed', 'ExecutionFailed', 'ChangesetRenderFailed', 'WorkspaceResolutionFailed')
      GROUP BY type`,
    [mark],
  );
  lines.push(
    failures.length === 0 ? 'no failure events in this phase' : `failure events in this phase:`,
  );
  for (const f of failures) lines.push(`  ${f.type} ×${f.count}, last: ${f.sample.slice(0, 300)}`);
  const { rows: schemas } = await pool.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables
      WHERE table_name = 'dead_letters' ORDER BY table_schema`,
  );
  for (const { schema } of schemas) {
    const { rows } = await pool.query<{ projection: string; type: string; error: string }>(
      `SELECT projection, type, error FROM "${schema}".dead_letters ORDER BY id DESC LIMIT 5`,
    );
    const { rows: counted } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".dead_letters`,
    );
    lines.push(`${schema}.dead_letters: ${counted[0]!.n} rows`);
    for (const r of rows) lines.push(`  ${r.projection} ${r.type}: ${r.error.slice(0, 300)}`);
  }
  return lines;
}

/** Dead-lettered events in every service schema (0 in a healthy run). */
export async function deadLetterCount(pool: pg.Pool): Promise<number> {
  const { rows: schemas } = await pool.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'dead_letters'`,
  );
  let total = 0;
  for (const { schema } of schemas) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".dead_letters`,
    );
    total += rows[0]!.n;
  }
  return total;
}
