import {
  CodeHosts,
  codeHostOptionsFromEnv,
  ConfigError,
  loadCampaignsConfig,
  secretValues,
  type CampaignsConfig,
} from '@campaigns/codehost';
import { campaignsCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { specServiceComponents } from './spec-service.components.js';
import { specServiceMigrations } from './spec-service.migrations.js';
import {
  createWorkspaceResolver,
  RepositoryIndex,
  repositoryIndexSettingsFromEnv,
} from './workspaces/index.js';

/**
 * spec-service applies and previews campaign specs, answers queries about them, resolves
 * repositories and computes the desired state (DESIGN.md). Its components: the desired-state
 * process manager and the status projection (durable consumers of the event stream), and the
 * request/reply API on NATS (`campaign.apply|preview|get|list`).
 *
 * It reads the Campaigns configuration (`CAMPAIGNS_CONFIG`, default `campaigns.config.yaml`) at
 * startup, before anything else: the code hosts the repository index lists, and the secrets the
 * event store must refuse. A missing or invalid file stops the service with one fatal line.
 */
export function createSpecService(env: NodeJS.ProcessEnv = process.env): ServiceDefinition {
  let config: CampaignsConfig | undefined;
  return {
    name: 'spec-service',
    defaultPort: 3101,
    migrations: specServiceMigrations,
    catalogue: campaignsCatalogue(),
    // Called once at startup, before the components: the config is loaded here.
    async secrets() {
      try {
        config = await loadCampaignsConfig(env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new Error(error.message.replace(/\n\s*/g, '; '), { cause: error });
      }
      return secretValues(config);
    },
    components(ctx) {
      if (config === undefined) throw new Error('the Campaigns configuration was not loaded');
      const hosts = new CodeHosts(config, codeHostOptionsFromEnv(env));
      const settings = repositoryIndexSettingsFromEnv(env);
      const index = new RepositoryIndex({
        pool: ctx.pool,
        codeHosts: config.codeHosts.map((host) => ({
          config: host,
          codeHost: hosts.byId(host.id)!,
        })),
        logger: ctx.logger,
        fullListingIntervalMs: settings.fullListingIntervalMs,
      });
      const resolver = createWorkspaceResolver({
        index,
        maxAgeMs: settings.maxAgeMs,
        logger: ctx.logger,
      });
      return specServiceComponents({
        store: ctx.eventStore,
        nats: ctx.nats,
        topology: ctx.config.events,
        resolver,
        registry: ctx.registry,
        logger: ctx.logger,
      }).all;
    },
  };
}

export const specService: ServiceDefinition = createSpecService();
