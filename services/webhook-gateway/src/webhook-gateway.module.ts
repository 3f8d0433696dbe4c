import { type CampaignsConfig } from '@campaigns/codehost';
import { SERVICE_CONTEXT, type ServiceContext } from '@campaigns/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import {
  GithubWebhookController,
  WEBHOOK_GATEWAY,
  type WebhookGateway,
} from './github-webhook.controller.js';
import { WebhookRecorder } from './webhook-recorder.js';
import { WebhookVerifier } from './webhook-verifier.js';

/** The webhook endpoint; `config` is read when Nest builds the module (after startup loaded it). */
@Module({})
export class WebhookGatewayModule {
  static register(config: () => CampaignsConfig): DynamicModule {
    return {
      module: WebhookGatewayModule,
      controllers: [GithubWebhookController],
      providers: [
        {
          provide: WEBHOOK_GATEWAY,
          inject: [SERVICE_CONTEXT],
          useFactory: (context: ServiceContext): WebhookGateway => ({
            verifier: new WebhookVerifier(config()),
            recorder: new WebhookRecorder(context.pool, context.eventStore),
          }),
        },
      ],
    };
  }
}
