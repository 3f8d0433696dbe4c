import { DEFAULT_INDEX_MAX_AGE_MS } from './create-workspace-resolver.js';
import { DEFAULT_FULL_LISTING_INTERVAL_MS } from './repository-index.js';

/** How the spec-service keeps its repository index fresh. */
export interface RepositoryIndexSettings {
  /** REPOSITORY_INDEX_MAX_AGE_MS: a resolve skips the refresh when the last one is younger. */
  maxAgeMs: number;
  /** REPOSITORY_INDEX_FULL_LISTING_INTERVAL_MS: time between complete listings (0: always). */
  fullListingIntervalMs: number;
}

/** Reads the settings; throws one Error naming every invalid variable. */
export function repositoryIndexSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RepositoryIndexSettings {
  const problems: string[] = [];
  const milliseconds = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) > 2_147_483_647) {
      problems.push(`${name} must be a whole number of milliseconds, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const settings = {
    maxAgeMs: milliseconds('REPOSITORY_INDEX_MAX_AGE_MS', DEFAULT_INDEX_MAX_AGE_MS),
    fullListingIntervalMs: milliseconds(
      'REPOSITORY_INDEX_FULL_LISTING_INTERVAL_MS',
      DEFAULT_FULL_LISTING_INTERVAL_MS,
    ),
  };
  if (problems.length > 0)
    throw new Error(`invalid repository index settings: ${problems.join('; ')}`);
  return settings;
}
