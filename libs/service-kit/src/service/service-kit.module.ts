import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { getDataSourceToken, getEntityManagerToken, getRepositoryToken } from '@nestjs/typeorm';
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
    const database = databaseProviders(context);
    const tokens = database.map((p) => (p as { provide: unknown }).provide) as never[];
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
        ...database,
        eventRelayProvider,
        ServiceLifecycle,
      ],
      exports: [SERVICE_CONTEXT, SERVICE_SETTINGS, Registry, Readiness, ...tokens],
    };
  }
}

/**
 * The tokens of `@nestjs/typeorm` (`@InjectDataSource()`, `@InjectEntityManager()`,
 * `@InjectRepository(Entity)` for every entity of the service) over the DataSource the service
 * opened. Not `TypeOrmModule.forRoot`: that module destroys its DataSource when the application
 * closes, and the service's connections outlive its application (`startServiceApplication` runs
 * over connections someone else owns; `startService` closes them after the application).
 */
function databaseProviders({ database }: ServiceContext): Provider[] {
  return [
    { provide: getDataSourceToken(), useValue: database },
    { provide: getEntityManagerToken(), useValue: database.manager },
    ...database.entityMetadatas
      .filter((m) => typeof m.target === 'function')
      .map((m) => ({
        provide: getRepositoryToken(m.target as never),
        useValue: database.getRepository(m.target),
      })),
  ];
}
