import { CodeHosts, codeHostOptionsFromEnv, type CampaignsConfig } from '@campaigns/codehost';
import { schemaOf } from '@campaigns/events';
import {
  SERVICE_CONTEXT,
  SERVICE_SETTINGS,
  type ProjectionBinding,
  type ServiceContext,
} from '@campaigns/service-kit';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CampaignsController } from './api/campaigns.controller.js';
import { AuthenticationGuard } from './identity/authentication.guard.js';
import { IdentityController } from './identity/identity.controller.js';
import { IdentityStore } from './identity/identity-store.js';
import { NamespaceAccess } from './identity/namespace-access.js';
import { BulkOperations } from './api/bulk-operations.js';
import { CampaignCloser } from './api/campaign-closer.js';
import { SpecApplier } from './api/spec-applier.js';
import { SpecPreviewer } from './api/spec-previewer.js';
import {
  CAMPAIGN_STATUS,
  DESIRED_STATE,
  ProjectionsController,
} from './events/projections.controller.js';
import { desiredStateProcessManager } from './desired-state/process-manager.js';
import { SPEC_SERVICE_SCHEMA } from './spec-service.database.js';
import { CampaignStatusQueries } from './status/campaign-status.js';
import { statusProjection } from './status/status-projection.js';
import {
  createWorkspaceResolver,
  RepositoryIndex,
  type RepositoryIndexSettings,
} from './workspaces/index.js';
import type { WorkspaceResolver } from './workspaces/workspace-resolver.js';

export { SPEC_SERVICE_SCHEMA } from './spec-service.database.js';

/** What spec-service reads at startup (`configure`), injected as SERVICE_SETTINGS. */
export interface SpecServiceSettings {
  /** null when a test brings its own resolver. */
  readonly campaigns: CampaignsConfig | null;
  readonly index: RepositoryIndexSettings;
  readonly env: NodeJS.ProcessEnv;
}

/** Injection token of the WorkspaceResolver (the repository index's, or a test's). */
export const WORKSPACE_RESOLVER = Symbol('WorkspaceResolver');

export interface SpecServiceModuleOptions {
  /** Defaults to `spec_service`; tests may use their own. */
  schema?: string;
  /** A resolver of the test's own instead of the repository index over the code hosts. */
  resolver?: WorkspaceResolver;
  /** Consumer tuning, for tests that want quick retries. */
  retryBackoffMs?: { initial: number; max: number };
}

/** The repository index over the configured code hosts, and the resolver that reads it. */
const indexResolver: Provider = {
  provide: WORKSPACE_RESOLVER,
  inject: [SERVICE_CONTEXT, SERVICE_SETTINGS],
  useFactory: (ctx: ServiceContext, settings: SpecServiceSettings): WorkspaceResolver => {
    const { campaigns } = settings;
    if (campaigns === null) throw new Error('spec-service has no Campaigns configuration');
    // The index's tables are in spec_service whatever schema the service runs in: only there do
    // its migrations run and its entities find them.
    if (schemaOf(ctx.database) !== SPEC_SERVICE_SCHEMA)
      throw new Error(`the repository index needs schema ${SPEC_SERVICE_SCHEMA}; bring a resolver`);
    const hosts = new CodeHosts(campaigns, codeHostOptionsFromEnv(settings.env));
    const index = new RepositoryIndex({
      database: ctx.database,
      codeHosts: campaigns.codeHosts.map((host) => ({
        config: host,
        codeHost: hosts.byId(host.id)!,
      })),
      logger: ctx.logger,
      fullListingIntervalMs: settings.index.fullListingIntervalMs,
    });
    return createWorkspaceResolver({
      index,
      maxAgeMs: settings.index.maxAgeMs,
      logger: ctx.logger,
    });
  },
};

/**
 * spec-service (DESIGN.md): the desired-state process manager and the status projection
 * (`@EventPattern` handlers in ProjectionsController: durable consumers of the event stream,
 * started in that order) and the request/reply API (`@MessagePattern` handlers in
 * CampaignsController).
 */
@Module({})
export class SpecServiceModule {
  static register(options: SpecServiceModuleOptions = {}): DynamicModule {
    const schema = options.schema ?? SPEC_SERVICE_SCHEMA;
    const tuning = options.retryBackoffMs ? { retryBackoffMs: options.retryBackoffMs } : {};
    return {
      module: SpecServiceModule,
      controllers: [ProjectionsController, CampaignsController, IdentityController],
      providers: [
        options.resolver
          ? { provide: WORKSPACE_RESOLVER, useValue: options.resolver }
          : indexResolver,
        {
          provide: IdentityStore,
          inject: [SERVICE_CONTEXT],
          useFactory: (ctx: ServiceContext) => new IdentityStore(ctx.pool, schema),
        },
        AuthenticationGuard,
        {
          provide: NamespaceAccess,
          inject: [SERVICE_CONTEXT, IdentityStore],
          useFactory: (ctx: ServiceContext, identities: IdentityStore) =>
            new NamespaceAccess(identities, ctx.eventStore, ctx.logger),
        },
        {
          provide: CampaignStatusQueries,
          inject: [SERVICE_CONTEXT],
          useFactory: (ctx: ServiceContext) =>
            new CampaignStatusQueries(ctx.database.manager, schema),
        },
        {
          provide: SpecApplier,
          inject: [SERVICE_CONTEXT],
          useFactory: (ctx: ServiceContext) => new SpecApplier(ctx.eventStore, ctx.logger),
        },
        {
          provide: CampaignCloser,
          inject: [SERVICE_CONTEXT],
          useFactory: (ctx: ServiceContext) =>
            new CampaignCloser(ctx.eventStore, schema, ctx.logger),
        },
        {
          provide: BulkOperations,
          inject: [SERVICE_CONTEXT, CampaignStatusQueries],
          useFactory: (ctx: ServiceContext, queries: CampaignStatusQueries) =>
            new BulkOperations(ctx.eventStore, queries, ctx.logger),
        },
        {
          provide: SpecPreviewer,
          inject: [SERVICE_CONTEXT, WORKSPACE_RESOLVER],
          useFactory: (ctx: ServiceContext, resolver: WorkspaceResolver) =>
            new SpecPreviewer(resolver, ctx.database.manager),
        },
        {
          provide: DESIRED_STATE,
          inject: [SERVICE_CONTEXT, WORKSPACE_RESOLVER],
          useFactory: (ctx: ServiceContext, resolver: WorkspaceResolver): ProjectionBinding => ({
            projection: desiredStateProcessManager({
              store: ctx.eventStore,
              resolver,
              logger: ctx.logger,
            }),
            // One lane: a PatchComputed must be handled after its SpecApplied (store order).
            consumer: { ...tuning, concurrency: 1 },
          }),
        },
        {
          provide: CAMPAIGN_STATUS,
          useValue: {
            projection: statusProjection(),
            consumer: tuning,
          } satisfies ProjectionBinding,
        },
      ],
    };
  }
}
