import { describe, expect, it } from '@jest/globals';
import {
  campaignStream,
  changesetStream,
  deterministicEventId,
  executionStream,
  type StoredEvent,
} from '@campaigns/events';
import {
  burndownData,
  burndownRows,
  countingOrder,
  defaultInterval,
  foldBurndown,
  pointCount,
  pointTimes,
  type BurndownCounts,
} from './burndown.js';

// Given a campaign's events as the log holds them, when they are folded into a burndown, then
// each point counts the changesets by the state `campaign status` would have shown then.

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);

const versions = new Map<string, bigint>();
let n = 0;
/** An event recorded `minutes` after T0, next in its stream unless `version` says otherwise. */
function event(
  stream: string,
  type: string,
  minutes: number,
  data: Record<string, unknown>,
  version?: bigint,
): StoredEvent {
  n += 1;
  const v = version ?? (versions.get(stream) ?? 0n) + 1n;
  versions.set(stream, v > (versions.get(stream) ?? 0n) ? v : versions.get(stream)!);
  return {
    global_position: BigInt(n),
    transaction_id: BigInt(n),
    event_id: deterministicEventId('burndown', String(n)),
    stream_id: stream,
    stream_version: v,
    type,
    schema_version: 1,
    data: { campaign: 'hello', ...data },
    metadata: { correlation_id: 'c', causation_id: null, actor: 'alice', source: 'test' },
    recorded_at: at(minutes),
    hash: '',
  };
}

const cs = (
  id: string,
  type: string,
  minutes: number,
  data: Record<string, unknown> = {},
  version?: bigint,
) => event(changesetStream(id), type, minutes, { changesetId: id, ...data }, version);
const computed = (id: string, minutes: number, published: boolean | 'draft' = true) =>
  cs(id, 'ChangesetSpecComputed', minutes, {
    repository: `github.com/acme/${id}`,
    headBranch: 'hello',
    spec: {
      published,
      title: 'Hello',
      baseRef: 'main',
      files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
      diff: { sha256: 'd'.repeat(64), size: 10 },
    },
  });
const published = (id: string, minutes: number, number: number) =>
  cs(id, 'ChangesetPublished', minutes, { draft: false, number, url: `u/${number}` });
const observed = (id: string, minutes: number, state: string, number: number) =>
  cs(id, 'ChangesetObserved', minutes, { state, number });

/**
 * Four changesets of the campaign and one imported pull request:
 * a published then merged (30), b published then closed (40), c published then removed from the
 * spec and closed by the reconciler (50, 55), d kept local (published: false), and #7 imported
 * (20) and later no longer listed: detached (60).
 */
function campaignLog(): StoredEvent[] {
  versions.clear();
  return [
    event(campaignStream('hello'), 'SpecApplied', 0, { applyId: 'a1' }),
    event(executionStream('x'), 'ExecutionQueued', 1, { executionId: 'x' }),
    computed('a', 10),
    computed('b', 10),
    computed('c', 10),
    computed('d', 10, false),
    published('a', 12, 1),
    published('b', 12, 2),
    published('c', 12, 3),
    cs('imp', 'ChangesetImportRequested', 20, {
      repository: 'github.com/acme/imp',
      headBranch: '#7',
    }),
    observed('imp', 21, 'open', 7),
    observed('a', 30, 'merged', 1),
    cs('b', 'ChangesetClosed', 40, { number: 2, url: 'u/2' }),
    cs('c', 'ChangesetSpecRemoved', 50, { reason: 'repository-left-spec' }),
    cs('c', 'ChangesetClosed', 55, { number: 3, url: 'u/3' }),
    cs('imp', 'ChangesetSpecRemoved', 60, { reason: 'import-left-spec' }),
  ];
}

function counts(c: Partial<BurndownCounts>): BurndownCounts {
  return {
    unpublished: 0,
    pending: 0,
    scheduled: 0,
    open: 0,
    draft: 0,
    closed: 0,
    merged: 0,
    removed: 0,
    archived: 0,
    detached: 0,
    total: 0,
    ...c,
  };
}

describe('foldBurndown', () => {
  it('counts each state at every point: a merge, a close, a removal and a detached import', () => {
    const b = foldBurndown('hello', campaignLog(), at(0), at(70), { intervalMs: 10 * MIN });
    expect(b.points.map((p) => [p.at.toISOString(), p.counts])).toEqual([
      [at(0).toISOString(), counts({})],
      [at(10).toISOString(), counts({ pending: 3, unpublished: 1, total: 4 })],
      [at(20).toISOString(), counts({ open: 3, unpublished: 1, pending: 1, total: 5 })],
      [at(30).toISOString(), counts({ open: 3, merged: 1, unpublished: 1, total: 5 })],
      [at(40).toISOString(), counts({ open: 2, merged: 1, closed: 1, unpublished: 1, total: 5 })],
      // c is no longer wanted but still open: shown open until the reconciler closes it.
      [at(50).toISOString(), counts({ open: 2, merged: 1, closed: 1, unpublished: 1, total: 5 })],
      [
        at(60).toISOString(),
        counts({ merged: 1, closed: 1, archived: 1, detached: 1, unpublished: 1, total: 3 }),
      ],
      [
        at(70).toISOString(),
        counts({ merged: 1, closed: 1, archived: 1, detached: 1, unpublished: 1, total: 3 }),
      ],
    ]);
  });

  it('--every-change: a point wherever the counts changed, none where an event changed nothing', () => {
    const b = foldBurndown('hello', campaignLog(), at(0), at(70), 'every-change');
    expect(b.points.map((p) => (p.at.getTime() - T0) / MIN)).toEqual([
      0, 10, 12, 20, 21, 30, 40, 55, 60, 70,
    ]);
    expect(b.points.at(-1)!.counts).toEqual(
      counts({ merged: 1, closed: 1, archived: 1, detached: 1, unpublished: 1, total: 3 }),
    );
  });

  it('counts nothing recorded after until', () => {
    const b = foldBurndown('hello', campaignLog(), at(0), at(35), { intervalMs: 60 * MIN });
    expect(b.points.map((p) => p.at)).toEqual([at(0), at(35)]);
    expect(b.points.at(-1)!.counts).toEqual(
      counts({ open: 3, merged: 1, unpublished: 1, total: 5 }),
    );
  });

  it('applies a stream in version order, an event counting once the versions before it are recorded', () => {
    // A transaction that began earlier (recorded_at is its start) appended version 3 of a's
    // stream before version 2 was in global order.
    versions.clear();
    const log = [
      event(campaignStream('hello'), 'SpecApplied', 0, { applyId: 'a1' }),
      computed('a', 1),
      cs('a', 'ChangesetObserved', 2, { state: 'merged', number: 1 }, 3n),
      cs('a', 'ChangesetPublished', 5, { draft: false, number: 1, url: 'u/1' }, 2n),
    ];
    expect(countingOrder(log).map(({ at: t, e }) => [(t - T0) / MIN, e.type])).toEqual([
      [1, 'ChangesetSpecComputed'],
      [5, 'ChangesetPublished'],
      [5, 'ChangesetObserved'],
    ]);
    const b = foldBurndown('hello', log, at(0), at(5), 'every-change');
    expect(
      b.points.map((p) => [(p.at.getTime() - T0) / MIN, p.counts.merged, p.counts.open]),
    ).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [5, 1, 0],
    ]);
  });
});

describe('foldBurndown of a name applied anew after its campaign was deleted', () => {
  it('counts only what came after the deletion: a changeset of the old campaign starts afresh', () => {
    // a was merged in the old campaign (30); the campaign is deleted (80) and applied anew (90),
    // which computes a's changeset again, in the same stream.
    const log = [
      ...campaignLog(),
      event(campaignStream('hello'), 'CampaignDeleted', 80, { actor: 'alice' }),
      event(campaignStream('hello'), 'SpecApplied', 90, { applyId: 'a2' }),
      computed('a', 95),
    ];
    const b = foldBurndown('hello', log, at(90), at(100), 'every-change', at(80));
    expect(b.points.map((p) => [(p.at.getTime() - T0) / MIN, p.counts])).toEqual([
      [90, counts({})],
      [95, counts({ pending: 1, total: 1 })],
      [100, counts({ pending: 1, total: 1 })],
    ]);
    // Without the deletion, a would still be the old campaign's merged pull request.
    expect(
      foldBurndown('hello', log, at(0), at(100), 'every-change').points.at(-1)!.counts,
    ).toEqual(counts({ merged: 1, closed: 1, archived: 1, detached: 1, unpublished: 1, total: 3 }));
  });
});

describe('the points of a burndown', () => {
  it('fall on multiples of the interval between the first apply and until', () => {
    const start = new Date('2026-03-02T09:17:42Z');
    const until = new Date('2026-03-02T12:05:00Z');
    expect(pointTimes(start, until, 3_600_000).map((d) => d.toISOString())).toEqual([
      '2026-03-02T09:17:42.000Z',
      '2026-03-02T10:00:00.000Z',
      '2026-03-02T11:00:00.000Z',
      '2026-03-02T12:00:00.000Z',
      '2026-03-02T12:05:00.000Z',
    ]);
    expect(pointCount(start, until, 3_600_000)).toBe(5);
    expect(pointCount(start, new Date('2026-03-02T12:00:00Z'), 3_600_000)).toBe(4);
    expect(pointTimes(start, start, 3_600_000)).toEqual([start]);
    expect(pointCount(start, start, 3_600_000)).toBe(1);
  });

  it('by default, the shortest round interval that keeps the table within about 30 rows', () => {
    for (const span of [0, 45 * MIN, 5 * 3_600_000, 3 * 86_400_000, 400 * 86_400_000]) {
      const interval = defaultInterval(span);
      const start = new Date(T0 + 17_000);
      const rows = pointCount(start, new Date(start.getTime() + span), interval);
      expect(rows).toBeLessThanOrEqual(30);
    }
    expect(defaultInterval(5 * 3_600_000)).toBe(15 * MIN);
    expect(defaultInterval(3 * 86_400_000)).toBe(3 * 3_600_000);
  });
});

describe('how a burndown is shown', () => {
  const b = foldBurndown('hello', campaignLog(), at(0), at(65), { intervalMs: 30 * MIN });

  it('a table: the time, a column per state that occurs at a point (not pending here), and the total', () => {
    expect(burndownRows(b)).toEqual({
      headers: ['TIME', 'UNPUBLISHED', 'OPEN', 'CLOSED', 'MERGED', 'ARCHIVED', 'DETACHED', 'TOTAL'],
      rows: [
        ['2026-03-02T09:00:00Z', '0', '0', '0', '0', '0', '0', '0'],
        ['2026-03-02T09:30:00Z', '1', '3', '0', '1', '0', '0', '5'],
        ['2026-03-02T10:00:00Z', '1', '0', '1', '1', '1', '1', '3'],
        ['2026-03-02T10:05:00Z', '1', '0', '1', '1', '1', '1', '3'],
      ],
    });
  });

  it('JSON: the campaign and each point with every state counted', () => {
    const data = burndownData(b);
    expect(data.campaign).toBe('hello');
    expect(data.points[1]).toEqual({
      at: '2026-03-02T09:30:00.000Z',
      counts: counts({ open: 3, merged: 1, unpublished: 1, total: 5 }),
    });
  });

  it('times to the millisecond when two points fall in one second', () => {
    const close = foldBurndown('hello', campaignLog(), at(0), new Date(T0 + 400), 'every-change');
    expect(burndownRows(close).rows.map((r) => r[0])).toEqual([
      '2026-03-02T09:00:00.000Z',
      '2026-03-02T09:00:00.400Z',
    ]);
  });
});
