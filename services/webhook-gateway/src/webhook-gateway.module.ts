import { type CampaignsConfig } from '@campaigns/codehost';
import { SERVICE_CONTEXT, SERVICE_SETTINGS, type ServiceContext } from '@campaigns/service-kit';
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
import { WebhookRecorder } from './webhook-recorder.js';
import { WebhookVerifier } from './webhook-verifier.js';

/**
 * The webhook endpoint (its verifier over the configured secrets, its recorder) and the
 * projection of tracked pull requests it reads.
 */
@Module({
  controllers: [TrackedPullRequestsController, GithubWebhookController],
  providers: [
    {
      provide: WEBHOOK_GATEWAY,
      inject: [SERVICE_CONTEXT, SERVICE_SETTINGS],
      useFactory: (context: ServiceContext, config: CampaignsConfig): WebhookGateway => ({
        verifier: new WebhookVerifier(config),
        recorder: new WebhookRecorder(context.database, context.eventStore),
      }),
    },
    { provide: TRACKED_PULL_REQUESTS, useValue: trackedPullRequestsBinding },
  ],
})
export class WebhookGatewayModule {}
