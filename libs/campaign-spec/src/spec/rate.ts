/**
 * Rates as Sourcegraph's `batchChanges.rolloutWindows` writes them: `unlimited`, `0` (nothing),
 * or `N/UNIT` with UNIT one of sec(ond), min(ute), hr/hour and, as a Campaigns extension, day.
 * Used by rollout windows (campaigns.config.yaml) and a campaign's `x-campaigns.publicationRate`.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  sec: 1000,
  second: 1000,
  min: 60_000,
  minute: 60_000,
  hr: 3_600_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export const RATE_PATTERN = /^(?:unlimited|0|[0-9]{1,9}\/(?:sec|second|min|minute|hr|hour|day))$/;

export const RATE_HINT =
  'must be "unlimited", "0" or N/UNIT with UNIT second, minute, hour or day, e.g. "10/hour"';

/** A parsed rate: unlimited, or `count` per `perMs` (count 0: nothing passes). */
export type Rate =
  | { readonly unlimited: true }
  | { readonly unlimited: false; readonly count: number; readonly perMs: number };

/** Parses a rate; null when the text is not one (see RATE_HINT). */
export function parseRate(text: string): Rate | null {
  const trimmed = text.trim();
  if (!RATE_PATTERN.test(trimmed)) return null;
  if (trimmed === 'unlimited') return { unlimited: true };
  if (trimmed === '0') return { unlimited: false, count: 0, perMs: 3_600_000 };
  const [count, unit] = trimmed.split('/') as [string, string];
  return { unlimited: false, count: Number(count), perMs: UNIT_MS[unit]! };
}

/** The time between two events at `rate` (a leaky bucket); 0 when unlimited, Infinity for 0. */
export function rateSpacingMs(rate: Rate): number {
  if (rate.unlimited) return 0;
  return rate.count === 0 ? Infinity : rate.perMs / rate.count;
}
