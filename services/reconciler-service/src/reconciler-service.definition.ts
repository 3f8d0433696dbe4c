import {
  CodeHosts,
  codeHostOptionsFromEnv,
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
import { BULK_JOBS, BulkJobsController } from './bulk/bulk-jobs.controller.js';
import { bulkJobsProjection } from './bulk/bulk-jobs.projection.js';
import { BulkProcessor } from './bulk/bulk-processor.js';
import { LedgerContentPacer } from './rollout/publication-gate.js';
import { rolloutClock } from './rollout/rollout-clock.js';
import { ReconcilerWorker } from './executor/reconciler-worker.js';
import { ChangesetSyncer } from './syncer/changeset-syncer.js';
import {
  loadReconcilerConfig,
  reconcilerSettingsFromEnv,
  syncIntervalFromEnv,
} from './reconciler-settings.js';
import { changesetProjection } from './projection/changeset-projection.js';
import { CHANGESETS, ChangesetsController } from './projection/changesets.controller.js';
import { reconcilerDatabase } from './reconciler-database.js';

export { reconcilerDatabase } from './reconciler-database.js';
export {
  loadReconcilerConfig,
  RECONCILER_SCHEMA,
  reconcilerSettingsFromEnv,
  syncIntervalFromEnv,
} from './reconciler-settings.js';

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
    database: reconcilerDatabase,
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
    events: true,
  };
}

/**
 * The changeset projection and the bulk jobs projection (`@EventPattern` handlers), the
 * reconciler worker, the bulk operation processor and (unless turned off) the syncer
 * (components).
 */
@Module({
  controllers: [ChangesetsController, BulkJobsController],
  providers: [
    { provide: CHANGESETS, useValue: { projection: changesetProjection() } },
    { provide: BULK_JOBS, useValue: { projection: bulkJobsProjection() } },
    provideComponents(
      (ctx: ServiceContext, settings: ReconcilerServiceSettings): ServiceComponent[] => {
        const { config, worker, syncIntervalMs } = settings;
        const codeHosts = new CodeHosts(config, settings.codeHostOptions);
        // One clock for publications and bulk writes: they share the hosts' budgets.
        const clock = rolloutClock(worker.timeScale);
        return [
          new ReconcilerWorker({
            database: ctx.database,
            store: ctx.eventStore,
            codeHosts,
            config,
            ...worker,
            clock,
            logger: ctx.logger,
            registry: ctx.registry,
          }),
          new BulkProcessor({
            database: ctx.database,
            store: ctx.eventStore,
            codeHosts,
            pacer: new LedgerContentPacer(ctx.database, config, clock),
            logger: ctx.logger,
          }),
          ...(syncIntervalMs === 0
            ? []
            : [
                new ChangesetSyncer({
                  database: ctx.database,
                  store: ctx.eventStore,
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
