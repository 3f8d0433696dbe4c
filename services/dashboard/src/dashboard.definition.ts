import { campaignsCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { dashboardSettingsFromEnv, type DashboardSettings } from './dashboard-settings.js';
import { DashboardModule } from './dashboard.module.js';

/** The dashboard owns no tables: it reads the event store and asks spec-service over NATS. */
export const DASHBOARD_SCHEMA = 'dashboard';

/**
 * The web dashboard: a JSON API under /api (spec-service's request API for campaigns,
 * changesets and bulk operations; the event store for burndown, timelines and spec history)
 * and the static React app that reads it, on port 3105.
 */
export function dashboardDefinition(
  env: NodeJS.ProcessEnv = process.env,
): ServiceDefinition<DashboardSettings> {
  return {
    name: 'dashboard',
    defaultPort: 3105,
    database: { schema: DASHBOARD_SCHEMA, entities: [], migrations: [] },
    catalogue: campaignsCatalogue(),
    http: { bodyLimitBytes: 128 * 1024 },
    configure: () => ({ settings: dashboardSettingsFromEnv(env), secrets: [] }),
    imports: [DashboardModule],
  };
}

export const dashboard: ServiceDefinition = dashboardDefinition();
