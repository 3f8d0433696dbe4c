// Rollout windows (Sourcegraph's `batchChanges.rolloutWindows`, per code host here) and GitHub's
// content-creation limits, as configured; pure time arithmetic over them, in UTC.
import { parseRate, type Rate } from '@campaigns/campaign-spec';

export const WEEKDAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;

/** One window: its rate while it is open; no days means every day, no start/end the whole day. */
export interface RolloutWindow {
  rate: Rate;
  /** UTC weekdays (0 = Sunday) it is open on; null for every day. */
  days: ReadonlySet<number> | null;
  /** Minutes after UTC midnight it opens and closes (end exclusive); null for the whole day. */
  startMinute: number | null;
  endMinute: number | null;
}

/** A code host's limits on content-creating requests (GitHub: 80 a minute, 500 an hour). */
export interface ContentLimits {
  perMinute: number;
  perHour: number;
}

export const GITHUB_CONTENT_LIMITS: ContentLimits = { perMinute: 80, perHour: 500 };

/** How a code host's publications are paced. */
export interface RolloutPolicy {
  /** Null: no windows configured, publish at any time as fast as the limits allow. */
  windows: readonly RolloutWindow[] | null;
  /** Null: the host has no content-creation limits to plan for. */
  contentLimits: ContentLimits | null;
}

export const UNPACED: RolloutPolicy = { windows: null, contentLimits: null };

/** `HH:MM` → minutes after midnight; null when malformed. */
export function parseTimeOfDay(text: string): number | null {
  const match = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(text.trim());
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** A weekday name (full or three letters, any case) → 0..6; null when it is not one. */
export function parseWeekday(text: string): number | null {
  const lower = text.trim().toLowerCase();
  const index = WEEKDAYS.findIndex(
    (d) => d === lower || (lower.length === 3 && d.startsWith(lower)),
  );
  return index === -1 ? null : index;
}

/** A window from its config fields (already validated); throws on an invalid rate. */
export function rolloutWindow(raw: {
  rate: string;
  days?: readonly string[];
  start?: string;
  end?: string;
}): RolloutWindow {
  const rate = parseRate(raw.rate);
  if (rate === null) throw new Error(`invalid rate ${raw.rate}`);
  return {
    rate,
    days: raw.days === undefined ? null : new Set(raw.days.map((d) => parseWeekday(d)!)),
    startMinute: raw.start === undefined ? null : parseTimeOfDay(raw.start),
    endMinute: raw.end === undefined ? null : parseTimeOfDay(raw.end),
  };
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function covers(window: RolloutWindow, t: number): boolean {
  const day = new Date(t).getUTCDay();
  if (window.days !== null && !window.days.has(day)) return false;
  if (window.startMinute === null || window.endMinute === null) return true;
  const minute = Math.floor((t % DAY_MS) / MINUTE_MS);
  return minute >= window.startMinute && minute < window.endMinute;
}

/**
 * The rate in force at `t`: the last configured window that covers it (later windows override
 * earlier ones, as in Sourcegraph); a rate of 0 when windows are configured and none covers it;
 * unlimited when none are configured.
 */
export function rateAt(windows: readonly RolloutWindow[] | null, t: number): Rate {
  if (windows === null) return { unlimited: true };
  for (let i = windows.length - 1; i >= 0; i--) {
    if (covers(windows[i]!, t)) return windows[i]!.rate;
  }
  return { unlimited: false, count: 0, perMs: 3_600_000 };
}

const isOpen = (rate: Rate) => rate.unlimited || rate.count > 0;

/**
 * The earliest time at or after `t` when a window with a rate above 0 is in force; null when
 * none is within a week (windows repeat weekly, so none ever will).
 */
export function nextOpening(windows: readonly RolloutWindow[] | null, t: number): number | null {
  if (isOpen(rateAt(windows, t))) return t;
  // What is in force changes only at midnight and at a window's start or end minute.
  const midnight = t - (t % DAY_MS);
  const boundaries: number[] = [];
  for (let day = 0; day <= 7; day++) {
    const base = midnight + day * DAY_MS;
    boundaries.push(base);
    for (const w of windows ?? []) {
      if (w.startMinute !== null) boundaries.push(base + w.startMinute * MINUTE_MS);
      if (w.endMinute !== null) boundaries.push(base + w.endMinute * MINUTE_MS);
    }
  }
  boundaries.sort((a, b) => a - b);
  for (const b of boundaries) if (b > t && isOpen(rateAt(windows, b))) return b;
  return null;
}
