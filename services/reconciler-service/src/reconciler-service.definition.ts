import {
  CodeHosts,
  codeHostOptionsFromEnv,
  loadCampaignsConfig,
  secretValues,
  type CampaignsConfig,
  type GithubCodeHostOptions,
} from '@campaigns/codehost';
import { campaignsCatalogue } from '@campaigns/events';
import {
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ServiceComponent,
  type ServiceContext,
  type ServiceDefinition,
} from '@campaigns/service-kit';
import { Module } from '@nestjs/common';
import { DEFAULT_CONCURRENCY, ReconcilerWorker } from './executor/reconciler-worker.js';
import { ChangesetSyncer } from './syncer/changeset-syncer.js';
import { changesetProjection } from './projection/changeset-projection.js';
import { CHANGESETS, ChangesetsController } from './projection/changesets.controller.js';
import { reconcilerServiceMigrations } from './reconciler-service.migrations.js';

export const RECONCILER_SCHEMA = 'reconciler_service';

/** Worker settings from RECONCILER_CONCURRENCY, RECONCILER_POLL_MS and RECONCILER_LEASE_MS. */
export function reconcilerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  concurrency: number;
  pollMs: number;
  leaseMs: number;
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

export interface ReconcilerServiceOptions {
  env?: NodeJS.ProcessEnv;
  /** Adapter options; default from CAMPAIGNS_WRITE_SPACING_MS / CAMPAIGNS_NOTIFICATION_SPACING_MS. */
  codeHostOptions?: GithubCodeHostOptions;
}

/** What reconciler-service reads at startup, injected as SERVICE_SETTINGS. */
export interface ReconcilerServiceSettings {
  config: CampaignsConfig;
  worker: ReturnType<typeof reconcilerSettingsFromEnv>;
  syncIntervalMs: number;
  codeHostOptions: GithubCodeHostOptions;
}

/**
 * reconciler-service: the changeset projection (desired and actual state, the reconcile queue)
 * and the worker that converges code hosts toward the desired state (DESIGN.md, Reconciler).
 */
export function createReconcilerService(
  options: ReconcilerServiceOptions = {},
): ServiceDefinition<ReconcilerServiceSettings> {
  const env = options.env ?? process.env;
  return {
    name: 'reconciler-service',
    defaultPort: 3103,
    migrations: reconcilerServiceMigrations,
    catalogue: campaignsCatalogue(),
    async configure() {
      const config = await loadReconcilerConfig(env);
      const settings: ReconcilerServiceSettings = {
        config,
        worker: reconcilerSettingsFromEnv(env),
        syncIntervalMs: syncIntervalFromEnv(env),
        codeHostOptions: options.codeHostOptions ?? codeHostOptionsFromEnv(env),
      };
      return { settings, secrets: secretValues(config) };
    },
    imports: [ReconcilerServiceModule],
    events: { schema: RECONCILER_SCHEMA },
  };
}

/**
 * The changeset projection (an `@EventPattern` handler), the reconciler worker and (unless
 * turned off) the syncer (components).
 */
@Module({
  controllers: [ChangesetsController],
  providers: [
    { provide: CHANGESETS, useValue: { projection: changesetProjection() } },
    provideComponents(
      (ctx: ServiceContext, settings: ReconcilerServiceSettings): ServiceComponent[] => {
        const { config, worker, syncIntervalMs } = settings;
        const codeHosts = new CodeHosts(config, settings.codeHostOptions);
        return [
          new ReconcilerWorker({
            pool: ctx.pool,
            store: ctx.eventStore,
            schema: RECONCILER_SCHEMA,
            codeHosts,
            config,
            ...worker,
            logger: ctx.logger,
            registry: ctx.registry,
          }),
          ...(syncIntervalMs === 0
            ? []
            : [
                new ChangesetSyncer({
                  pool: ctx.pool,
                  store: ctx.eventStore,
                  schema: RECONCILER_SCHEMA,
                  codeHosts,
                  intervalMs: syncIntervalMs,
                  logger: ctx.logger,
                }),
              ]),
        ];
      },
      [SERVICE_CONTEXT, SERVICE_SETTINGS],
    ),
  ],
  exports: [SERVICE_COMPONENTS],
})
export class ReconcilerServiceModule {}

export const reconcilerService: ServiceDefinition = createReconcilerService();
