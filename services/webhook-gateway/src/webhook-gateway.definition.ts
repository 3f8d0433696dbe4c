import { loadCampaignsConfig, secretValues, type CampaignsConfig } from '@campaigns/codehost';
import {
  campaignsCatalogue,
  CONSUMER_ENTITIES,
  projectionSqlMigrations,
  sqlMigrations,
} from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { RecordedDelivery } from './recorded-delivery.entity.js';
import { RECORDER_STATE_ENTITIES } from './recorder-state.entities.js';
import { TrackedPullRequestEntity } from './tracked-pull-request.entity.js';
import { trackedPullRequestsProjection } from './tracked-pull-requests.projection.js';
import { WebhookGatewayModule } from './webhook-gateway.module.js';
import { webhookGatewayMigrations } from './webhook-gateway.migrations.js';
import { WEBHOOK_GATEWAY_SCHEMA } from './webhook-recorder.js';
import { describeConfigProblem } from './webhook-verifier.js';

/** Largest webhook body accepted (GitHub caps payloads at 25 MB; ours are far smaller). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;
/**
 * A delivery's headers and its body must each arrive within these (GitHub gives up on a delivery
 * after 10 s): a client that trickles bytes loses its connection instead of holding it.
 */
export const WEBHOOK_HEADERS_TIMEOUT_MS = 5_000;
export const WEBHOOK_BODY_TIMEOUT_MS = 10_000;

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
      entities: [
        ...CONSUMER_ENTITIES,
        RecordedDelivery,
        TrackedPullRequestEntity,
        ...RECORDER_STATE_ENTITIES,
      ],
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
    http: {
      rawBody: true,
      bodyLimitBytes: MAX_WEBHOOK_BYTES,
      headersTimeoutMs: milliseconds(env, 'WEBHOOK_HEADERS_TIMEOUT_MS', WEBHOOK_HEADERS_TIMEOUT_MS),
      bodyTimeoutMs: milliseconds(env, 'WEBHOOK_BODY_TIMEOUT_MS', WEBHOOK_BODY_TIMEOUT_MS),
    },
    async configure() {
      for (const name of ['WEBHOOK_HEADERS_TIMEOUT_MS', 'WEBHOOK_BODY_TIMEOUT_MS']) {
        const problem = timeoutProblem(env, name);
        if (problem !== undefined) throw new Error(`webhook-gateway: ${problem}`);
      }
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

/** A timeout from the environment (whole milliseconds, 100 ms to 10 min), else the default. */
function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return timeoutProblem(env, name) === undefined && env[name]?.trim()
    ? Number(env[name]!.trim())
    : fallback;
}

/** Why a timeout variable is unusable; `configure` stops startup with it. */
function timeoutProblem(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return /^\d+$/.test(raw) && value >= 100 && value <= 600_000
    ? undefined
    : `${name} must be a whole number of milliseconds from 100 to 600000, got "${raw}"`;
}

export const webhookGateway: ServiceDefinition = webhookGatewayDefinition();
