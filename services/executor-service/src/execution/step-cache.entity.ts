import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import type { CachedPatch } from './step-cache.js';

/** A step cache entry (executor_service.step_cache): a successful run's patch, by `stepCacheKey`. */
@Entity({ name: 'step_cache' })
@Check('step_cache_key_check', `key ~ '^[0-9a-f]{64}$'`)
export class StepCacheEntry {
  /** sha256 (hex) of everything the run's outcome depends on. */
  @PrimaryColumn({ name: 'key', type: 'text' })
  key!: string;

  @Column({ name: 'value', type: 'jsonb' })
  value!: CachedPatch;

  @Column({ name: 'stored_at', type: 'timestamptz', default: () => 'now()' })
  storedAt!: Date;
}
