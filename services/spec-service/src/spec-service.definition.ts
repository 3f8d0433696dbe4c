import { apiSubject, API_VERBS, type ApiVerb } from '@campaigns/contracts';
import { ConfigError, loadCampaignsConfig, secretValues } from '@campaigns/codehost';
import { campaignsCatalogue } from '@campaigns/events';
import type { ServiceConfig, ServiceDefinition } from '@campaigns/service-kit';
import { specServiceDatabase } from './spec-service.database.js';
import {
  SpecServiceModule,
  type SpecServiceModuleOptions,
  type SpecServiceSettings,
} from './spec-service.module.js';
import { repositoryIndexSettingsFromEnv } from './workspaces/index.js';

/** NATS queue group of the API subscriptions: replicas share the requests. */
export const API_QUEUE_GROUP = 'spec-service';

/** The subject of a `campaign.<verb>` pattern under the service's event topology. */
export function specApiSubject(pattern: string, events: ServiceConfig['events']): string {
  const verb = pattern.slice('campaign.'.length) as ApiVerb;
  if (!pattern.startsWith('campaign.') || !API_VERBS.includes(verb))
    throw new Error(`"${pattern}" is not a campaign API pattern`);
  return apiSubject(events, verb);
}

/**
 * spec-service applies and previews campaign specs, answers queries about them, resolves
 * repositories and computes the desired state (DESIGN.md); its parts are in SpecServiceModule.
 *
 * It reads the Campaigns configuration (`CAMPAIGNS_CONFIG`, default `campaigns.config.yaml`) at
 * startup, before anything else: the code hosts the repository index lists, and the secrets the
 * event store must refuse. A missing or invalid file stops the service with one fatal line.
 */
export function createSpecService(
  env: NodeJS.ProcessEnv = process.env,
  options: SpecServiceModuleOptions & { secrets?: readonly string[] } = {},
): ServiceDefinition<SpecServiceSettings> {
  return {
    name: 'spec-service',
    defaultPort: 3101,
    database: specServiceDatabase(options.schema),
    catalogue: campaignsCatalogue(),
    async configure() {
      if (options.resolver) {
        // A test's resolver needs no code hosts.
        const index = repositoryIndexSettingsFromEnv(env);
        return { settings: { campaigns: null, index, env }, secrets: options.secrets ?? [] };
      }
      let campaigns;
      try {
        campaigns = await loadCampaignsConfig(env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new Error(error.message.replace(/\n\s*/g, '; '), { cause: error });
      }
      const settings = { campaigns, index: repositoryIndexSettingsFromEnv(env), env };
      return { settings, secrets: [...secretValues(campaigns), ...(options.secrets ?? [])] };
    },
    imports: [SpecServiceModule.register(options)],
    events: true,
    requests: { queue: API_QUEUE_GROUP, subjectOf: specApiSubject },
  };
}

export const specService: ServiceDefinition = createSpecService();
