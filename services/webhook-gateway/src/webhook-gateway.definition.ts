import { loadCampaignsConfig, secretValues, type CampaignsConfig } from '@campaigns/codehost';
import {
  campaignsCatalogue,
  CONSUMER_ENTITIES,
  projectionSqlMigrations,
  sqlMigrations,
} from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { RecordedDelivery } from './recorded-delivery.entity.js';
import { TrackedPullRequestEntity } from './tracked-pull-request.entity.js';
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
 * their webhook secrets come from the Campaigns configuration (CAMPAIGNS_CONFIG), read at startup
 * and injected as SERVICE_SETTINGS.
 */
export function webhookGatewayDefinition(
  env: NodeJS.ProcessEnv = process.env,
): ServiceDefinition<CampaignsConfig> {
  return {
    name: 'webhook-gateway',
    defaultPort: 3104,
    database: {
      schema: WEBHOOK_GATEWAY_SCHEMA,
      entities: [...CONSUMER_ENTITIES, RecordedDelivery, TrackedPullRequestEntity],
      // The timestamps name the migrations (TypeORM knows them by name): never change them.
      migrations: [
        ...sqlMigrations({
          component: 'webhook-gateway',
          timestamp: 1764806700000,
          migrations: webhookGatewayMigrations,
        }),
        ...projectionSqlMigrations(
          trackedPullRequestsProjection,
          WEBHOOK_GATEWAY_SCHEMA,
          1764806701000,
        ),
      ],
    },
    catalogue: campaignsCatalogue(),
    http: { rawBody: true, bodyLimitBytes: MAX_WEBHOOK_BYTES },
    async configure() {
      let config: CampaignsConfig;
      try {
        config = await loadCampaignsConfig(env);
      } catch (error) {
        throw new Error(describeConfigProblem(error), { cause: error });
      }
      return { settings: config, secrets: secretValues(config) };
    },
    imports: [WebhookGatewayModule],
    events: true,
  };
}

export const webhookGateway: ServiceDefinition = webhookGatewayDefinition();
