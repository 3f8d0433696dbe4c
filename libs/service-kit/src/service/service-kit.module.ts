import { Module, type DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HealthController } from '../http/health.controller.js';
import { MetricsController } from '../http/metrics.controller.js';
import { eventRelayProvider } from '../lifecycle/event-relay.provider.js';
import { ServiceLifecycle } from '../lifecycle/service-lifecycle.js';
import { Readiness } from '../readiness/readiness.js';
import {
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ServiceContext,
  type ServiceDefinition,
} from './service-definition.js';

/**
 * The root module of every service: the probes and /metrics, the event relay and the lifecycle
 * of the service's components, and the service's own modules. Global, so those modules can
 * inject SERVICE_CONTEXT, SERVICE_SETTINGS, Readiness and the prom-client Registry.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(
    context: ServiceContext,
    readiness: Readiness,
    settings: unknown,
    imports: ServiceDefinition['imports'] = [],
  ): DynamicModule {
    return {
      module: ServiceKitModule,
      global: true,
      imports,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONTEXT, useValue: context },
        { provide: SERVICE_SETTINGS, useValue: settings },
        { provide: Registry, useValue: context.registry },
        { provide: Readiness, useValue: readiness },
        eventRelayProvider,
        ServiceLifecycle,
      ],
      exports: [SERVICE_CONTEXT, SERVICE_SETTINGS, Registry, Readiness],
    };
  }
}
