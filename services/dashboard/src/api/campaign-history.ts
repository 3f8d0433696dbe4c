// What the dashboard reads from the event store: the burndown, the applied specs and a
// changeset's diff and timeline, each in one read-only snapshot and bounded.
import {
  burndownData,
  defaultInterval,
  describe,
  foldBurndown,
  readBurndownLog,
  readOnly,
  shortId,
  unifiedDiff,
} from '@campaigns/audit';
import {
  campaignStream,
  changesetId,
  changesetStream,
  EVENT_COLUMNS,
  importedChangesetId,
  rowToEvent,
  type EventRow,
  type PostgresEventStore,
} from '@campaigns/events';
import type pg from 'pg';

/** The most points the burndown draws at every change; more are sampled at an interval. */
export const MAX_BURNDOWN_POINTS = 500;
/** The most applied specs the history shows (the newest). */
export const MAX_SPECS_SHOWN = 20;
/** The most events of one changeset its timeline shows (the newest). */
export const MAX_TIMELINE_EVENTS = 500;
/** The most of a changeset's diff its page shows. */
export const MAX_DIFF_BYTES = 512 * 1024;

export interface TimelineEntry {
  at: string;
  type: string;
  actor: string;
  /** The apply (or webhook delivery) that caused it, short. */
  correlation: string;
  text: string;
}

export interface AppliedSpec {
  at: string;
  actor: string;
  fileName: string;
  applyId: string;
  specHash: string;
  specText: string;
  /** Against the spec applied before it (`/dev/null` for the first). */
  diff: string;
}

export interface ChangesetHistory {
  diff: { text: string; truncated: boolean } | null;
  timeline: TimelineEntry[];
  /** Older events were left out (MAX_TIMELINE_EVENTS). */
  timelineTruncated: boolean;
}

export class CampaignHistory {
  constructor(
    private readonly pool: pg.Pool,
    private readonly store: PostgresEventStore,
  ) {}

  /** Changesets by state from the first application to now; null for an unknown campaign. */
  async burndown(campaign: string) {
    const log = await readBurndownLog(this.pool, campaign, undefined);
    if (!log.found) return null;
    if (log.start === null) return { campaign, points: [] };
    const { start, until, events, deletedAt } = log;
    // Every change while they are few enough to draw; else the CLI's default round interval.
    const exact = foldBurndown(campaign, events, start, until, 'every-change', deletedAt);
    if (exact.points.length <= MAX_BURNDOWN_POINTS) return burndownData(exact);
    const intervalMs = defaultInterval(until.getTime() - start.getTime());
    return burndownData(foldBurndown(campaign, events, start, until, { intervalMs }, deletedAt));
  }

  /** The newest applied specs, newest first, each with its diff against the one before. */
  async specs(campaign: string): Promise<AppliedSpec[]> {
    const rows = await readOnly(this.pool, async (db) => {
      const { rows } = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM eventstore.events
          WHERE stream_id = $1 AND type = 'SpecApplied'
          ORDER BY stream_version DESC LIMIT $2`,
        [campaignStream(campaign), MAX_SPECS_SHOWN + 1],
      );
      return rows;
    });
    const applied = rows.map((r) => {
      const e = this.store.upcast(rowToEvent(r));
      const d = e.data as {
        actor: string;
        fileName: string;
        applyId: string;
        specHash: string;
        specText: string;
      };
      return { at: e.recorded_at.toISOString(), ...d };
    });
    return applied.slice(0, MAX_SPECS_SHOWN).map((spec, i) => {
      const previous = applied[i + 1];
      return {
        at: spec.at,
        actor: spec.actor,
        fileName: spec.fileName,
        applyId: spec.applyId,
        specHash: spec.specHash,
        specText: spec.specText,
        diff: unifiedDiff(previous?.specText ?? '', spec.specText, {
          oldName: previous === undefined ? '/dev/null' : 'previous spec',
          newName: spec.fileName,
        }),
      };
    });
  }

  /** The changeset's newest events described, and the diff its desired state carries now. */
  async changeset(
    campaign: string,
    repository: string,
    headBranch: string,
  ): Promise<ChangesetHistory> {
    // An imported pull request's head branch is `#NUMBER` (contracts' ChangesetStatus).
    const imported = /^#(\d+)$/.exec(headBranch);
    const stream = changesetStream(
      imported
        ? importedChangesetId(campaign, repository, Number(imported[1]))
        : changesetId(campaign, repository, headBranch),
    );
    const rows = await readOnly(this.pool, async (db) => {
      const { rows } = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM eventstore.events WHERE stream_id = $1
          ORDER BY stream_version DESC LIMIT $2`,
        [stream, MAX_TIMELINE_EVENTS + 1],
      );
      return rows;
    });
    const events = rows
      .slice(0, MAX_TIMELINE_EVENTS)
      .reverse()
      .map((r) => this.store.upcast(rowToEvent(r)));
    const computed = events.findLast((e) => e.type === 'ChangesetSpecComputed');
    const blob = computed
      ? (computed.data as { spec: { diff: { sha256: string } } }).spec.diff
      : undefined;
    const content = blob ? await this.store.getBlob(blob.sha256) : null;
    return {
      diff:
        content === null
          ? null
          : {
              text: content.subarray(0, MAX_DIFF_BYTES).toString('utf8'),
              truncated: content.length > MAX_DIFF_BYTES,
            },
      timeline: events.map((e) => ({
        at: e.recorded_at.toISOString(),
        type: e.type,
        actor: e.metadata.actor,
        correlation: shortId(e.metadata.correlation_id),
        text: describe(e),
      })),
      timelineTruncated: rows.length > MAX_TIMELINE_EVENTS,
    };
  }
}
