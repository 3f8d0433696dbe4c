import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { CampaignCounts, CampaignStatus } from '@campaigns/contracts';
import { sampleStatus, summaryOf } from '../test-support/sample-status.js';
import {
  estimateLeftMs,
  formatElapsed,
  formatEstimate,
  nextSlot,
  packParts,
  progressFrame,
  progressSample,
  waitingOn,
  type FrameInput,
} from './progress.js';

const base = summaryOf(sampleStatus);

/** A status in `phase` with some counts changed (the states merged into the sample's). */
function statusOf(
  phase: CampaignStatus['phase'],
  counts: Partial<Omit<CampaignCounts, 'states'>> & { states?: Partial<CampaignCounts['states']> },
): CampaignStatus {
  const { states, ...rest } = counts;
  return {
    ...base,
    phase,
    counts: { ...base.counts, ...rest, states: { ...base.counts.states, ...states } },
  };
}

const executing = (executed: number, workspaces = 10) =>
  statusOf('executing', {
    workspaces,
    executed,
    failed: 0,
    errored: 0,
    changesets: 0,
    states: { pending: 0, open: 0 },
  });
const publishing = (pending: number, open: number, scheduled = 0) =>
  statusOf('reconciling', {
    workspaces: 10,
    executed: 10,
    failed: 0,
    errored: 0,
    changesets: pending + open + scheduled,
    states: { pending, open, scheduled },
  });

describe('progressSample: what the current phase works through', () => {
  it('counts executions while executing and changesets to publish while reconciling', () => {
    expect(progressSample(executing(4), 1000)).toEqual({
      atMs: 1000,
      work: 'executions',
      done: 4,
      left: 6,
    });
    expect(progressSample(publishing(3, 7), 2000)).toEqual({
      atMs: 2000,
      work: 'publishing',
      done: 7,
      left: 3,
    });
  });

  it('has nothing to measure while a changeset waits for its rollout slot, or once it has ended', () => {
    expect(progressSample(publishing(3, 5, 2), 0)).toBeUndefined();
    expect(progressSample(executing(0, 0), 0)).toBeUndefined();
    expect(progressSample(statusOf('complete', {}), 0)).toBeUndefined();
  });
});

describe('estimateLeftMs: the work left at the rate seen so far', () => {
  it('gives no estimate before anything has finished: there is no rate yet', () => {
    const first = progressSample(executing(0), 0);
    expect(estimateLeftMs(first, progressSample(executing(0), 60_000))).toBeUndefined();
    expect(estimateLeftMs(first, first)).toBeUndefined();
  });

  it('extrapolates the rate between the first and the latest sample', () => {
    // 4 executions finished in 20s: the 6 left take 30s more.
    const first = progressSample(executing(0), 1_000);
    expect(estimateLeftMs(first, progressSample(executing(4), 21_000))).toBe(30_000);
  });

  it('never compares executions with publishing, and has nothing left to estimate at the end', () => {
    const first = progressSample(executing(0), 0);
    expect(estimateLeftMs(first, progressSample(publishing(3, 7), 10_000))).toBeUndefined();
    expect(estimateLeftMs(first, progressSample(executing(10), 10_000))).toBeUndefined();
    expect(estimateLeftMs(undefined, progressSample(executing(4), 10_000))).toBeUndefined();
  });
});

describe('waitingOn', () => {
  it('names the executions still running and the changesets to publish or scheduled', () => {
    expect(waitingOn(executing(7))).toEqual(['3 executions running']);
    expect(waitingOn(publishing(1, 5, 2))).toEqual([
      '1 changeset to publish',
      '2 changesets scheduled for a rollout slot',
    ]);
    expect(
      waitingOn({ ...publishing(0, 5), counts: { ...publishing(0, 5).counts, errored: 1 } }),
    ).toEqual(['1 errored changeset being retried']);
  });

  it('says when the next scheduled changeset is due, when it is known', () => {
    expect(waitingOn(publishing(0, 5, 2), '2026-12-06T14:00:00.000Z')).toEqual([
      '2 changesets scheduled, the next at 2026-12-06 14:00 UTC',
    ]);
  });

  it('says what it waits on when there is nothing to count', () => {
    expect(waitingOn(executing(0, 0))).toEqual(['resolving repositories']);
    expect(waitingOn(publishing(0, 5))).toEqual(['changesets to converge']);
  });
});

describe('nextSlot', () => {
  const scheduled = (scheduledFor: string | null) => ({
    ...sampleStatus.changesets[0]!,
    state: 'scheduled' as const,
    scheduledFor,
  });

  it('is the earliest slot of a page holding every scheduled changeset', () => {
    const page = {
      changesets: [
        scheduled('2026-12-06T15:00:00.000Z'),
        scheduled(null),
        scheduled('2026-12-06T09:30:00.000Z'),
      ],
      next: null,
    };
    expect(nextSlot(page)).toBe('2026-12-06T09:30:00.000Z');
  });

  it('is unknown when the page does not hold them all, or none has a slot', () => {
    const first = scheduled('2026-12-06T15:00:00.000Z');
    expect(nextSlot({ changesets: [first], next: 'more' })).toBeUndefined();
    expect(nextSlot({ changesets: [scheduled(null)], next: null })).toBeUndefined();
  });
});

describe('durations', () => {
  it('shows the elapsed time exactly and rounds an estimate up', () => {
    expect([0, 45_900, 185_000, 3_720_000].map(formatElapsed)).toEqual([
      '0s',
      '45s',
      '3m05s',
      '1h02m',
    ]);
    expect([400, 11_000, 61_000, 7_800_000].map(formatEstimate)).toEqual([
      '~5s',
      '~15s',
      '~2m',
      '~2h10m',
    ]);
  });
});

describe('packParts', () => {
  it('joins parts by "; " while they fit and starts a new line rather than split one', () => {
    expect(packParts(['aaaa', 'bbbb', 'cccc'], 10, '; ')).toEqual(['aaaa; bbbb', 'cccc']);
    expect(packParts(['a'.repeat(15), 'b'], 10, ', ')).toEqual(['aaaaaaaaa…', 'b']);
  });
});

describe('progressFrame', () => {
  const frame = (over: Partial<FrameInput>) =>
    progressFrame({
      campaign: 'hello-world',
      status: publishing(2, 6),
      elapsedMs: 83_000,
      mark: '⠋',
      columns: 200,
      colour: false,
      ...over,
    });

  it('shows the mark, phase, elapsed time, counts and what it waits on with the estimate', () => {
    expect(frame({ leftMs: 20_000, work: 'publishing' })).toBe(
      [
        '⠋ hello-world: reconciling · 1m23s · publishing ~20s left',
        '  10 workspaces: 10 executed, 0 failed; 8 changesets: 2 pending, 6 open',
        '  waiting on: 2 changesets to publish',
      ].join('\n'),
    );
  });

  it('shows no estimate without one, and no waiting line once the campaign is complete', () => {
    expect(frame({})).not.toContain('left');
    expect(frame({ status: statusOf('complete', {}), mark: '✔' }).split('\n')).toEqual([
      '✔ hello-world: complete · 1m23s',
      `  ${base.counts.workspaces} workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored`,
    ]);
  });

  it('says it waits for spec-service before the application is known', () => {
    expect(frame({ status: undefined })).toBe('⠋ hello-world: waiting for spec-service · 1m23s');
  });

  it('fits every line in fewer columns than the terminal has, the name giving way first', () => {
    const long = statusOf('reconciling', {
      workspaces: 12_345,
      executed: 12_000,
      noChanges: 40,
      changesets: 11_960,
      errored: 12,
      states: { pending: 3_000, scheduled: 4_000, open: 2_960, merged: 2_000, archived: 7 },
    });
    for (const columns of [40, 80]) {
      const lines = frame({ campaign: 'a-campaign-with-a-rather-long-name', status: long, columns })
        .split('\n')
        .map(stripVTControlCharacters);
      for (const line of lines) expect(line.length).toBeLessThan(columns);
      // The counts are packed onto lines, not cut: each of them is still there.
      expect(lines.join(' ')).toContain('7 archived');
      expect(lines.join(' ')).toContain('12 errored changesets being retried');
    }
    expect(frame({ campaign: 'a-campaign-with-a-rather-long-name', columns: 40 })).toMatch(
      /^⠋ a-campaign-with…: reconciling · 1m23s\n/,
    );
  });

  it('colours the phase only when asked', () => {
    const status = statusOf('needs-attention', {});
    expect(frame({ status, colour: true })).toContain('\x1b[31mneeds-attention\x1b[39m');
    expect(frame({ status, colour: false })).not.toContain('\x1b[');
  });
});
