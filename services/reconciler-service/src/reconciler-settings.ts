// reconciler-service's settings, read from the environment and the Campaigns configuration.
// Free of NestJS, so a worker run as its own process (test-support/worker-process.ts) can use them.
import { loadCampaignsConfig, type CampaignsConfig } from '@campaigns/codehost';
import { DEFAULT_CONCURRENCY } from './executor/reconciler-worker.js';
import { timeScaleFromEnv } from './rollout/rollout-clock.js';

export const RECONCILER_SCHEMA = 'reconciler_service';

/**
 * Worker settings from RECONCILER_CONCURRENCY, RECONCILER_POLL_MS, RECONCILER_LEASE_MS and
 * CAMPAIGNS_TIME_SCALE (the rollout clock's speed, for benchmarks against a sped-up simulator).
 */
export function reconcilerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  timeScale: number;
} {
  const read = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`${name} must be a whole number of at least ${min}, got "${raw}"`);
    return value;
  };
  return {
    concurrency: read('RECONCILER_CONCURRENCY', DEFAULT_CONCURRENCY, 1),
    pollMs: read('RECONCILER_POLL_MS', 250, 1),
    leaseMs: read('RECONCILER_LEASE_MS', 120_000, 100),
    timeScale: timeScaleFromEnv(env),
  };
}

/** RECONCILER_SYNC_INTERVAL_MS: time between syncer passes (default 5 minutes; 0 turns it off). */
export function syncIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['RECONCILER_SYNC_INTERVAL_MS']?.trim();
  if (raw === undefined || raw === '') return 300_000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`RECONCILER_SYNC_INTERVAL_MS must be a whole number of ms, got "${raw}"`);
  return value;
}

/** Loads CAMPAIGNS_CONFIG, turning any problem into one line that says what to set. */
export async function loadReconcilerConfig(env: NodeJS.ProcessEnv): Promise<CampaignsConfig> {
  try {
    return await loadCampaignsConfig(env);
  } catch (error) {
    const message = (error as Error).message
      .split('\n')
      .map((l) => l.trim())
      .join(' ');
    throw new Error(`reconciler-service needs a code host configuration: ${message}`);
  }
}
