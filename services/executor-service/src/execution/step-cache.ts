import { createHash } from 'node:crypto';
import {
  canonicalJson,
  type BlobRefData,
  type ChangedFilesData,
  type GitTreeData,
  type Queryable,
} from '@campaigns/events';
import { EXECUTOR_SCHEMA } from '../jobs/job-dispatcher.js';

/** What a cache entry holds: the fields of PatchComputed that do not depend on the execution. */
export interface CachedPatch {
  empty: boolean;
  diff: BlobRefData | null;
  results: BlobRefData;
  files: ChangedFilesData;
  steps: { stepIndex: number; skipped: boolean; exitCode: number | null; durationMs: number }[];
  /** The staged tree and the pack of its new objects; absent when empty (and in entries older than it). */
  tree?: GitTreeData;
}

export interface StepCacheKeyInput {
  repository: string;
  baseRevision: string;
  path: string;
  /** The spec's steps as parsed. */
  steps: unknown;
  /** Names (never values) of the secrets the steps ask for. */
  secretNames: readonly string[];
  /** The data the steps' templates see (repository, campaign), which can change their result. */
  templateData: unknown;
}

/** sha256 of everything a step run's outcome depends on. */
export function stepCacheKey(input: StepCacheKeyInput): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        v: 2,
        repository: input.repository,
        baseRevision: input.baseRevision,
        path: input.path,
        steps: input.steps,
        secretNames: [...new Set(input.secretNames)].sort(),
        templateData: input.templateData,
      }),
    )
    .digest('hex');
}

/** The step cache, a table in executor_service: successful runs only, by `stepCacheKey`. */
export class StepCache {
  constructor(private readonly db: Queryable) {}

  async get(key: string): Promise<CachedPatch | null> {
    const { rows } = await this.db.query<{ value: CachedPatch }>(
      `SELECT value FROM ${EXECUTOR_SCHEMA}.step_cache WHERE key = $1`,
      [key],
    );
    return rows[0]?.value ?? null;
  }

  async put(key: string, value: CachedPatch): Promise<void> {
    await this.db.query(
      `INSERT INTO ${EXECUTOR_SCHEMA}.step_cache (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, stored_at = now()`,
      [key, JSON.stringify(value)],
    );
  }
}
