import { type CampaignsConfig } from '@campaigns/codehost';
import {
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ServiceComponent,
  type ServiceContext,
} from '@campaigns/service-kit';
import { Module } from '@nestjs/common';
import {
  GithubWebhookController,
  WEBHOOK_GATEWAY,
  type WebhookGateway,
} from './github-webhook.controller.js';
import {
  TRACKED_PULL_REQUESTS,
  TrackedPullRequestsController,
  trackedPullRequestsBinding,
} from './tracked-pull-requests.controller.js';
import { ParkedDeliveries } from './parked-deliveries.js';
import { WebhookRecorder } from './webhook-recorder.js';
import { WebhookVerifier } from './webhook-verifier.js';

/**
 * The webhook endpoint (its verifier over the configured secrets, its recorder) and the
 * projection of tracked pull requests it reads. The recorder is a component: stopping, it
 * takes no new delivery and writes those it took.
 */
@Module({
  controllers: [TrackedPullRequestsController, GithubWebhookController],
  providers: [
    {
      provide: WEBHOOK_GATEWAY,
      inject: [SERVICE_CONTEXT, SERVICE_SETTINGS],
      useFactory: (context: ServiceContext, config: CampaignsConfig): WebhookGateway => ({
        verifier: new WebhookVerifier(config),
        recorder: new WebhookRecorder(context.database, context.eventStore, {
          registry: context.registry,
        }),
      }),
    },
    provideComponents(
      (gateway: WebhookGateway, context: ServiceContext): ServiceComponent[] => [
        gateway.recorder,
        new ParkedDeliveries({
          pool: context.pool,
          recorder: gateway.recorder,
          logger: context.logger,
        }),
      ],
      [WEBHOOK_GATEWAY, SERVICE_CONTEXT],
    ),
    { provide: TRACKED_PULL_REQUESTS, useValue: trackedPullRequestsBinding },
  ],
  exports: [SERVICE_COMPONENTS],
})
export class WebhookGatewayModule {}
