import { SERVICE_CONTEXT, type ServiceContext } from '@campaigns/service-kit';
import { Module } from '@nestjs/common';
import { CampaignHistory } from './api/campaign-history.js';
import { DashboardApiController } from './api/dashboard-api.controller.js';
import { SpecServiceApi } from './api/spec-service-api.js';
import { SessionController } from './session/session.controller.js';
import { UiFilesController } from './ui-files.controller.js';

/** The JSON API (over spec-service and the event store) and the app's files. */
@Module({
  controllers: [DashboardApiController, SessionController, UiFilesController],
  providers: [
    {
      provide: SpecServiceApi,
      inject: [SERVICE_CONTEXT],
      useFactory: (ctx: ServiceContext) => new SpecServiceApi(ctx),
    },
    {
      provide: CampaignHistory,
      inject: [SERVICE_CONTEXT],
      useFactory: (ctx: ServiceContext) => new CampaignHistory(ctx.pool, ctx.eventStore),
    },
  ],
})
export class DashboardModule {}
