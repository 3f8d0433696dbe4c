// A service whose one component never finishes stopping, to exercise SHUTDOWN_TIMEOUT_MS in a
// real process. Plain JavaScript over the built packages, so no build step is needed for it.
import { EventCatalogue } from '@campaigns/events';
import { bootstrapService, provideComponents, SERVICE_COMPONENTS } from '@campaigns/service-kit';

class StuckOnStopModule {}

await bootstrapService({
  name: 'stuck-on-stop',
  defaultPort: 0,
  database: { schema: 'stuck_on_stop', entities: [], migrations: [] },
  catalogue: new EventCatalogue([]),
  imports: [
    {
      module: StuckOnStopModule,
      providers: [
        provideComponents(() => [
          {
            name: 'stuck',
            start: async () => undefined,
            stop: () => new Promise(() => undefined),
            ready: () => true,
          },
        ]),
      ],
      exports: [SERVICE_COMPONENTS],
    },
  ],
});
