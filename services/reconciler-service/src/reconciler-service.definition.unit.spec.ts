import { describe, expect, it } from '@jest/globals';
import {
  loadReconcilerConfig,
  reconcilerSettingsFromEnv,
} from './reconciler-service.definition.js';

describe('reconcilerSettingsFromEnv', () => {
  it('defaults to 64 lanes, polls every 250 ms and leases for 2 minutes', () => {
    expect(reconcilerSettingsFromEnv({})).toEqual({
      concurrency: 64,
      pollMs: 250,
      leaseMs: 120_000,
      timeScale: 1,
    });
  });

  it('reads RECONCILER_CONCURRENCY, RECONCILER_POLL_MS and RECONCILER_LEASE_MS', () => {
    expect(
      reconcilerSettingsFromEnv({
        RECONCILER_CONCURRENCY: '16',
        RECONCILER_POLL_MS: '1000',
        RECONCILER_LEASE_MS: '30000',
        CAMPAIGNS_TIME_SCALE: '12',
      }),
    ).toEqual({ concurrency: 16, pollMs: 1000, leaseMs: 30_000, timeScale: 12 });
  });

  it('names the variable that is not a whole number', () => {
    expect(() => reconcilerSettingsFromEnv({ RECONCILER_CONCURRENCY: '0' })).toThrow(
      'RECONCILER_CONCURRENCY must be a whole number of at least 1, got "0"',
    );
    expect(() => reconcilerSettingsFromEnv({ RECONCILER_POLL_MS: 'soon' })).toThrow(
      /RECONCILER_POLL_MS/,
    );
    expect(() => reconcilerSettingsFromEnv({ CAMPAIGNS_TIME_SCALE: '0.5' })).toThrow(
      'CAMPAIGNS_TIME_SCALE must be a number from 1 to 3600, got "0.5"',
    );
  });
});

describe('loadReconcilerConfig', () => {
  it('turns a missing config file into one line that says what to set', async () => {
    const error = await loadReconcilerConfig({ CAMPAIGNS_CONFIG: '/nonexistent/c.yaml' }).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(
      /^reconciler-service needs a code host configuration: \/nonexistent\/c\.yaml.*file not found \(set CAMPAIGNS_CONFIG/,
    );
  });
});
