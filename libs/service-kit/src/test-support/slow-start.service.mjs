// A service whose one component takes a second to start, so a test can send SIGTERM while the
// service is still starting. Plain JavaScript over the built packages, like stuck-on-stop.
import { EventCatalogue } from '@campaigns/events';
import {
  bootstrapService,
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
} from '@campaigns/service-kit';

class SlowStartModule {}

await bootstrapService({
  name: 'slow-start',
  defaultPort: 0,
  database: { schema: 'slow_start', entities: [], migrations: [] },
  catalogue: new EventCatalogue([]),
  imports: [
    {
      module: SlowStartModule,
      providers: [
        provideComponents(
          ({ logger }) => [
            {
              name: 'slow',
              start: async () => {
                logger.info('slow component starting');
                await new Promise((resolve) => setTimeout(resolve, 1000));
              },
              stop: async () => undefined,
              ready: () => true,
            },
          ],
          [SERVICE_CONTEXT],
        ),
      ],
      exports: [SERVICE_COMPONENTS],
    },
  ],
});
