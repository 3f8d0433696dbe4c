import { loadCampaignsConfig, secretValues, type CampaignsConfig } from '@campaigns/codehost';
import { campaignsCatalogue, ProjectionConsumer } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { trackedPullRequestsProjection } from './tracked-pull-requests.projection.js';
import { WebhookGatewayModule } from './webhook-gateway.module.js';
import { webhookGatewayMigrations } from './webhook-gateway.migrations.js';
import { WEBHOOK_GATEWAY_SCHEMA } from './webhook-recorder.js';
import { describeConfigProblem } from './webhook-verifier.js';

/** Largest webhook body accepted (GitHub caps payloads at 25 MB; ours are far smaller). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * webhook-gateway verifies and records code host webhooks (DESIGN.md): `POST /webhooks/github`
 * turns deliveries about tracked pull requests into ChangesetObserved events. The code hosts and
 * their webhook secrets come from the Campaigns configuration (CAMPAIGNS_CONFIG), read at startup.
 */
export function webhookGatewayDefinition(env: NodeJS.ProcessEnv = process.env): ServiceDefinition {
  let config: CampaignsConfig | undefined;
  return {
    name: 'webhook-gateway',
    defaultPort: 3104,
    migrations: webhookGatewayMigrations,
    catalogue: campaignsCatalogue(),
    http: { rawBody: true, bodyLimitBytes: MAX_WEBHOOK_BYTES },
    // The kit calls this once, before it builds the HTTP module that needs the configuration.
    secrets: async () => {
      try {
        config = await loadCampaignsConfig(env);
      } catch (error) {
        throw new Error(describeConfigProblem(error), { cause: error });
      }
      return secretValues(config);
    },
    components: (context) => [
      new ProjectionConsumer({
        store: context.eventStore,
        nats: context.nats,
        projection: trackedPullRequestsProjection,
        schema: WEBHOOK_GATEWAY_SCHEMA,
        topology: context.config.events,
        registry: context.registry,
        logger: context.logger,
      }),
    ],
    imports: [
      WebhookGatewayModule.register(() => {
        if (config === undefined) throw new Error('the Campaigns configuration was not loaded');
        return config;
      }),
    ],
  };
}

export const webhookGateway: ServiceDefinition = webhookGatewayDefinition();
