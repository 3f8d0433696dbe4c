import { describe, expect, it } from '@jest/globals';
import { parseRate } from '@campaigns/campaign-spec';
import { rolloutWindow } from '@campaigns/codehost';
import {
  mayPublishNow,
  paces,
  plannedSlot,
  type LedgerPoint,
  type SlotRules,
} from './publication-slot.js';

const MIN = 60_000;
const HOUR = 3_600_000;
// A Monday, 10:00 UTC.
const MONDAY_10 = Date.UTC(2026, 11, 7, 10, 0, 0);

const rules = (o: Partial<SlotRules> = {}): SlotRules => ({
  windows: null,
  contentLimits: { perMinute: 80, perHour: 500 },
  campaignRate: null,
  marginMs: 0,
  ...o,
});
const made = (...at: number[]): LedgerPoint[] => at.map((t) => ({ at: t, pending: false }));
const planned = (...at: number[]): LedgerPoint[] => at.map((t) => ({ at: t, pending: true }));

/** Plans `n` publications one after another, as the ledger would, all asked for at `now`. */
function planMany(n: number, now: number, r: SlotRules): number[] {
  const points: LedgerPoint[] = [];
  for (let i = 0; i < n; i++) {
    const slot = plannedSlot(now, points, points, r);
    if (slot === null) throw new Error('no slot');
    points.push({ at: slot.at, pending: true });
  }
  return points.map((p) => p.at);
}

describe('plannedSlot', () => {
  it('is now when nothing limits it', () => {
    expect(plannedSlot(MONDAY_10, [], [], rules())).toEqual({ at: MONDAY_10, reason: null });
  });

  it('fills GitHub’s per-minute and per-hour budgets and never exceeds either in any window', () => {
    const slots = planMany(600, 0, rules());
    const inWindow = (end: number, span: number) =>
      slots.filter((t) => t > end - span && t <= end).length;
    for (const t of slots) {
      expect(inWindow(t, MIN)).toBeLessThanOrEqual(80);
      expect(inWindow(t, HOUR)).toBeLessThanOrEqual(500);
    }
    // The first 80 at once, 500 within the first six minutes, the 501st when the first expire.
    expect(slots.filter((t) => t === 0)).toHaveLength(80);
    expect(slots[499]).toBeLessThan(6 * MIN + 100);
    expect(slots[500]).toBe(HOUR + 1);
    expect(slots[599]).toBeLessThan(HOUR + MIN + 100);
  });

  it('counts each publication for its window plus the margin', () => {
    const r = rules({ contentLimits: { perMinute: 1, perHour: 100 }, marginMs: 500 });
    expect(plannedSlot(0, made(0), [], r)).toEqual({ at: MIN + 501, reason: 'content limit' });
  });

  it('queues behind planned publications (first come, first published)', () => {
    const slot = plannedSlot(0, planned(5 * MIN), [], rules());
    expect(slot).toEqual({ at: 5 * MIN, reason: 'content limit' });
  });

  it('waits for a window to open, and spaces publications by its rate', () => {
    const windows = [
      rolloutWindow({ rate: '10/hour', days: ['monday'], start: '12:00', end: '14:00' }),
    ];
    const r = rules({ windows, contentLimits: null });
    expect(plannedSlot(MONDAY_10, [], [], r)).toEqual({
      at: MONDAY_10 + 2 * HOUR,
      reason: 'rollout window',
    });
    const noon = MONDAY_10 + 2 * HOUR;
    expect(plannedSlot(noon, made(noon), [], r)).toEqual({
      at: noon + 6 * MIN,
      reason: 'rollout window',
    });
    // After 14:00 on Monday the next opening is the next Monday at noon.
    expect(plannedSlot(MONDAY_10 + 5 * HOUR, [], [], r)!.at).toBe(noon + 7 * 24 * HOUR);
  });

  it('lets later windows override earlier ones, and a rate of 0 close them', () => {
    const windows = [
      rolloutWindow({ rate: 'unlimited' }),
      rolloutWindow({ rate: '0', start: '09:00', end: '11:00' }),
    ];
    const r = rules({ windows, contentLimits: null });
    expect(plannedSlot(MONDAY_10, [], [], r)).toEqual({
      at: MONDAY_10 + HOUR,
      reason: 'rollout window',
    });
  });

  it('is null when no window ever opens, or the campaign’s rate is 0', () => {
    expect(plannedSlot(MONDAY_10, [], [], rules({ windows: [] }))).toBeNull();
    expect(plannedSlot(MONDAY_10, [], [], rules({ campaignRate: parseRate('0') }))).toBeNull();
  });

  it('spaces the campaign’s publications by its rate, across code hosts', () => {
    const r = rules({ contentLimits: null, campaignRate: parseRate('2/minute') });
    expect(plannedSlot(0, [], made(10_000), r)).toEqual({ at: 40_000, reason: 'publication rate' });
  });
});

describe('mayPublishNow', () => {
  it('lets a publication through only while the limits have room, by publications made', () => {
    const r = rules({ contentLimits: { perMinute: 2, perHour: 100 } });
    expect(mayPublishNow(MIN, made(10, 20), r)).toBe(false);
    expect(mayPublishNow(MIN + 11, made(10, 20), r)).toBe(true);
  });

  it('counts publications made after the time asked about, as a late reader sees them', () => {
    const r = rules({ contentLimits: { perMinute: 1, perHour: 100 } });
    expect(mayPublishNow(0, made(10), r)).toBe(false);
  });

  it('refuses outside every window', () => {
    expect(mayPublishNow(MONDAY_10, [], rules({ windows: [] }))).toBe(false);
  });
});

describe('paces', () => {
  it('is false only without windows, limits and a limiting campaign rate', () => {
    const none = { windows: null, contentLimits: null };
    expect(paces({ ...none, campaignRate: null })).toBe(false);
    expect(paces({ ...none, campaignRate: parseRate('unlimited') })).toBe(false);
    expect(paces({ ...none, campaignRate: parseRate('5/hour') })).toBe(true);
    expect(paces({ windows: [], contentLimits: null, campaignRate: null })).toBe(true);
  });
});
