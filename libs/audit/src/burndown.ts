// `campaign burndown`: a campaign's changesets counted by state over time, folded from the log
// in one pass with the status projection's own evolve and state (no replay per point).
import { CHANGESET_STATES } from '@campaigns/contracts';
import { categoryOf, StreamOrder, type StoredEvent } from '@campaigns/events';
import {
  changesetState,
  countedChangeset,
  evolveChangeset,
  Rows,
  type ChangesetState,
  type StatusChangesetRow,
} from '@campaigns/spec-service';

/** Changesets in each state; `total` is what `campaign status` counts (not removed or detached). */
export type BurndownCounts = Record<ChangesetState, number> & { total: number };

export interface BurndownPoint {
  at: Date;
  counts: BurndownCounts;
}

export interface Burndown {
  campaign: string;
  points: BurndownPoint[];
}

/** When to count: every `intervalMs` (on multiples of it, UTC), or wherever the counts changed. */
export type BurndownSchedule = { intervalMs: number } | 'every-change';

/** The most points an explicit `--interval` may ask for. */
export const MAX_POINTS = 10_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Intervals a default is chosen from: the shortest that keeps the table near 30 rows. */
const ROUND_INTERVALS = [
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
];
/** Steps of the default interval within the span; with its two ends, at most 30 rows. */
const DEFAULT_STEPS = 28;

/** The shortest round interval that covers `spanMs` in at most 28 steps. */
export function defaultInterval(spanMs: number): number {
  const round = ROUND_INTERVALS.find((i) => spanMs / i <= DEFAULT_STEPS);
  return round ?? Math.ceil(spanMs / DEFAULT_STEPS / DAY) * DAY;
}

/**
 * The times to count at: `start`, each multiple of `intervalMs` (since the epoch, so points fall
 * on whole hours, days…) strictly between, and `until`.
 */
export function pointTimes(start: Date, until: Date, intervalMs: number): Date[] {
  const out = [start];
  const from = start.getTime();
  const to = until.getTime();
  for (let t = (Math.floor(from / intervalMs) + 1) * intervalMs; t < to; t += intervalMs)
    out.push(new Date(t));
  if (to > from) out.push(until);
  return out;
}

/** How many points `pointTimes` gives, without making them. */
export function pointCount(start: Date, until: Date, intervalMs: number): number {
  const from = start.getTime();
  const to = until.getTime();
  if (to <= from) return 1;
  const between = Math.ceil(to / intervalMs) - 1 - Math.floor(from / intervalMs);
  return 2 + Math.max(0, between);
}

function zeroCounts(): Record<ChangesetState, number> {
  return Object.fromEntries(CHANGESET_STATES.map((s) => [s, 0])) as Record<ChangesetState, number>;
}

/**
 * The changeset events in the order they count in, each with the time from which it counts.
 * Each stream is taken in version order, as the status projection applies it (StreamOrder);
 * an event counts from when it and every earlier version of its stream were recorded, which is
 * what replaying the events recorded by a time (`campaign audit --at`) applies.
 */
export function countingOrder(events: readonly StoredEvent[]): { at: number; e: StoredEvent }[] {
  const ordered = new StreamOrder<StoredEvent>().push(
    events.filter((e) => categoryOf(e.stream_id) === 'changeset'),
  );
  const latest = new Map<string, number>();
  const timed = ordered.map((e) => {
    const at = Math.max(e.recorded_at.getTime(), latest.get(e.stream_id) ?? -Infinity);
    latest.set(e.stream_id, at);
    return { at, e };
  });
  // Stable: events of one time keep their order, and a stream's times never go back.
  return timed.sort((a, b) => a.at - b.at);
}

/** The status projection's changeset rows, evolved event by event, with the counts kept current. */
class CountedChangesets {
  private readonly rows = new Rows<StatusChangesetRow>([]);
  private readonly counts = zeroCounts();

  apply(e: StoredEvent): void {
    const id = (e.data as { changesetId: string }).changesetId;
    const before = this.rows.get(id);
    // evolve changes rows in place: the state before is taken first.
    const was = before === undefined ? undefined : changesetState(before);
    evolveChangeset(this.rows, e);
    const after = this.rows.get(id);
    const now = after === undefined ? undefined : changesetState(after);
    if (was === now) return;
    if (was !== undefined) this.counts[was] -= 1;
    if (now !== undefined) this.counts[now] += 1;
  }

  snapshot(): BurndownCounts {
    const total = CHANGESET_STATES.filter(countedChangeset).reduce((n, s) => n + this.counts[s], 0);
    return { ...this.counts, total };
  }
}

function sameCounts(a: BurndownCounts, b: BurndownCounts): boolean {
  return CHANGESET_STATES.every((s) => a[s] === b[s]);
}

/**
 * The campaign's changesets by state at each point of `schedule` from `start` (its first
 * application) to `until`, from its events (as stored or upcast, recorded by `until`): one pass
 * over the events, whatever the number of points. Events that count by `deletedAt` (a campaign
 * of the same name deleted then; status forgets its rows) are not counted.
 */
export function foldBurndown(
  campaign: string,
  events: readonly StoredEvent[],
  start: Date,
  until: Date,
  schedule: BurndownSchedule,
  deletedAt: Date | null = null,
): Burndown {
  const after = deletedAt?.getTime() ?? -Infinity;
  const order = countingOrder(events).filter(({ at }) => at > after && at <= until.getTime());
  const changesets = new CountedChangesets();
  let next = 0;
  /** Applies every event that counts by `t`. */
  const applyUntil = (t: number) => {
    for (; next < order.length && order[next]!.at <= t; next += 1) changesets.apply(order[next]!.e);
  };

  if (schedule !== 'every-change') {
    const points = pointTimes(start, until, schedule.intervalMs).map((at) => {
      applyUntil(at.getTime());
      return { at, counts: changesets.snapshot() };
    });
    return { campaign, points };
  }

  applyUntil(start.getTime());
  const points: BurndownPoint[] = [{ at: start, counts: changesets.snapshot() }];
  while (next < order.length) {
    const at = order[next]!.at;
    applyUntil(at);
    const counts = changesets.snapshot();
    if (!sameCounts(counts, points.at(-1)!.counts)) points.push({ at: new Date(at), counts });
  }
  if (until.getTime() > points.at(-1)!.at.getTime())
    points.push({ at: until, counts: points.at(-1)!.counts });
  return { campaign, points };
}

/** The states that have a changeset at some point, in `CHANGESET_STATES` order. */
export function statesShown(burndown: Burndown): ChangesetState[] {
  return CHANGESET_STATES.filter((s) => burndown.points.some((p) => p.counts[s] > 0));
}

/** The burndown as JSON/YAML data: times in ISO 8601, every state counted. */
export function burndownData(burndown: Burndown) {
  return {
    campaign: burndown.campaign,
    points: burndown.points.map((p) => ({ at: p.at.toISOString(), counts: p.counts })),
  };
}

/**
 * The rows of the table: the time (to the second, or to the millisecond when two points share a
 * second), then one column per state shown and the total.
 */
export function burndownRows(burndown: Burndown): { headers: string[]; rows: string[][] } {
  const states = statesShown(burndown);
  const seconds = burndown.points.map((p) => Math.floor(p.at.getTime() / 1000));
  const millis = seconds.some((s, i) => i > 0 && s === seconds[i - 1]);
  const time = (at: Date) => (millis ? at.toISOString() : at.toISOString().replace(/\.\d+Z$/, 'Z'));
  return {
    headers: ['TIME', ...states.map((s) => s.toUpperCase()), 'TOTAL'],
    rows: burndown.points.map((p) => [
      time(p.at),
      ...states.map((s) => String(p.counts[s])),
      String(p.counts.total),
    ]),
  };
}
