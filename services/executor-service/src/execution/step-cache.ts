import { createHash } from 'node:crypto';
import {
  canonicalJson,
  type BlobRefData,
  type ChangedFilesData,
  type GitTreeData,
  selectEntities,
} from '@campaigns/events';
import type { Repository } from 'typeorm';
import { StepCacheEntry } from './step-cache.entity.js';

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
  /** The checkout held only the workspace (`onlyFetchWorkspace`): the steps saw less. */
  onlyWorkspace?: boolean;
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
        // Only when set, so that the entries of full checkouts keep their keys.
        ...(input.onlyWorkspace ? { onlyWorkspace: true } : {}),
      }),
    )
    .digest('hex');
}

/** The step cache, a table in executor_service: successful runs only, by `stepCacheKey`. */
export class StepCache {
  constructor(private readonly entries: Repository<StepCacheEntry>) {}

  async get(key: string): Promise<CachedPatch | null> {
    // Once per execution: without the QueryBuilder's per-call cost (see selectEntities).
    const [entry] = await selectEntities(this.entries.manager, StepCacheEntry, 'key = $1', [key]);
    return entry?.value ?? null;
  }

  /** One upsert; a replaced entry is stamped anew (EXCLUDED.stored_at is the insert's now()). */
  async put(key: string, value: CachedPatch): Promise<void> {
    await this.entries
      .createQueryBuilder()
      .insert()
      .values({ key, value })
      .orUpdate(['value', 'stored_at'], ['key'])
      .updateEntity(false)
      .execute();
  }
}
