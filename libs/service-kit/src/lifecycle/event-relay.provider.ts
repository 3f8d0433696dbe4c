import { EventRelay } from '@campaigns/events';
import type { Provider } from '@nestjs/common';
import { SERVICE_CONTEXT, type ServiceContext } from '../service/service-definition.js';

/** Injection token of the service's event relay (a ServiceComponent). */
export const EVENT_RELAY = Symbol('EventRelay');

/** Every instance is a relay candidate; the advisory lock makes exactly one of them publish. */
export const eventRelayProvider: Provider = {
  provide: EVENT_RELAY,
  inject: [SERVICE_CONTEXT],
  useFactory: ({ eventStore, nats, registry, logger, config }: ServiceContext) =>
    new EventRelay({ store: eventStore, nats, registry, logger, topology: config.events }),
};
