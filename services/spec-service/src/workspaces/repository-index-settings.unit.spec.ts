import { describe, expect, it } from '@jest/globals';
import { repositoryIndexSettingsFromEnv } from './repository-index-settings.js';

describe('repositoryIndexSettingsFromEnv', () => {
  it('refreshes at most every 10 s and lists completely every hour by default', () => {
    expect(repositoryIndexSettingsFromEnv({})).toEqual({
      maxAgeMs: 10_000,
      fullListingIntervalMs: 3_600_000,
    });
    expect(repositoryIndexSettingsFromEnv({ REPOSITORY_INDEX_MAX_AGE_MS: ' ' })).toMatchObject({
      maxAgeMs: 10_000,
    });
  });

  it('reads both variables, 0 included', () => {
    expect(
      repositoryIndexSettingsFromEnv({
        REPOSITORY_INDEX_MAX_AGE_MS: '0',
        REPOSITORY_INDEX_FULL_LISTING_INTERVAL_MS: '600000',
      }),
    ).toEqual({ maxAgeMs: 0, fullListingIntervalMs: 600_000 });
  });

  it('names every invalid variable at once', () => {
    expect(() =>
      repositoryIndexSettingsFromEnv({
        REPOSITORY_INDEX_MAX_AGE_MS: '10s',
        REPOSITORY_INDEX_FULL_LISTING_INTERVAL_MS: '-1',
      }),
    ).toThrow(
      'invalid repository index settings: REPOSITORY_INDEX_MAX_AGE_MS must be a whole number of milliseconds, got "10s"; REPOSITORY_INDEX_FULL_LISTING_INTERVAL_MS must be a whole number of milliseconds, got "-1"',
    );
  });
});
