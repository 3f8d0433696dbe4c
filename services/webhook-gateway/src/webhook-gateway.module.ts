import { type CampaignsConfig } from '@campaigns/codehost';
import { ProjectionConsumer } from '@campaigns/events';
import {
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ServiceContext,
} from '@campaigns/service-kit';
import { Module } from '@nestjs/common';
import {
  GithubWebhookController,
  WEBHOOK_GATEWAY,
  type WebhookGateway,
} from './github-webhook.controller.js';
import { trackedPullRequestsProjection } from './tracked-pull-requests.projection.js';
import { WEBHOOK_GATEWAY_SCHEMA, WebhookRecorder } from './webhook-recorder.js';
import { WebhookVerifier } from './webhook-verifier.js';

/**
 * The webhook endpoint (its verifier over the configured secrets, its recorder) and the
 * projection of tracked pull requests it reads.
 */
@Module({
  controllers: [GithubWebhookController],
  providers: [
    {
      provide: WEBHOOK_GATEWAY,
      inject: [SERVICE_CONTEXT, SERVICE_SETTINGS],
      useFactory: (context: ServiceContext, config: CampaignsConfig): WebhookGateway => ({
        verifier: new WebhookVerifier(config),
        recorder: new WebhookRecorder(context.pool, context.eventStore),
      }),
    },
    provideComponents(
      (context: ServiceContext) => [
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
      [SERVICE_CONTEXT],
    ),
  ],
  exports: [SERVICE_COMPONENTS],
})
export class WebhookGatewayModule {}
