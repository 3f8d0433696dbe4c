import { Module, type DynamicModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { Readiness } from '../readiness/readiness.js';
import type { ServiceContext, ServiceDefinition } from '../service/service-definition.js';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/** Injection token for the ServiceContext: `@Inject(SERVICE_CONTEXT) context: ServiceContext`. */
export const SERVICE_CONTEXT = Symbol('ServiceContext');

/**
 * The root module of every service: the probes, /metrics, and the service's own modules. Global,
 * so those modules can inject SERVICE_CONTEXT and the prom-client Registry.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(
    context: ServiceContext,
    readiness: Readiness,
    imports: ServiceDefinition['imports'] = [],
  ): DynamicModule {
    return {
      module: ServiceKitModule,
      global: true,
      imports,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONTEXT, useValue: context },
        { provide: Registry, useValue: context.registry },
        { provide: Readiness, useValue: readiness },
      ],
      exports: [SERVICE_CONTEXT, Registry],
    };
  }
}
