/**
 * The clock rollout windows and content-creation limits are planned on: the wall clock, or one
 * running `scale` times as fast from when the process started (CAMPAIGNS_TIME_SCALE, for the
 * rollout benchmark and tests against a simulator whose limit clock runs as fast: an hour of
 * GitHub's limits in five minutes at 12).
 */
export interface RolloutClock {
  /** Now, in ms since the epoch, on this clock. */
  now(): number;
  /** Real milliseconds until this clock reaches `at`. */
  realMsUntil(at: number): number;
}

export function rolloutClock(scale = 1, realNow: () => number = Date.now): RolloutClock {
  const start = realNow();
  return {
    now: () => (scale === 1 ? realNow() : start + (realNow() - start) * scale),
    realMsUntil(at) {
      const ms = (at - this.now()) / scale;
      return Math.max(0, Math.ceil(ms));
    },
  };
}

/** CAMPAIGNS_TIME_SCALE: a number ≥ 1 (default 1, the wall clock). */
export function timeScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['CAMPAIGNS_TIME_SCALE']?.trim();
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale < 1 || scale > 3600)
    throw new Error(`CAMPAIGNS_TIME_SCALE must be a number from 1 to 3600, got "${raw}"`);
  return scale;
}
