/** What the dashboard reads at startup, injected as SERVICE_SETTINGS. */
export interface DashboardSettings {
  /**
   * Whether the pages may request bulk operations (`DASHBOARD_BULK_ACTIONS=off` turns them off).
   * On by default: every one is made with the signed-in user's token, which spec-service checks
   * and records as the actor, as it does for `campaign changesets --do`.
   */
  readonly bulkActions: boolean;
}

/** `DASHBOARD_BULK_ACTIONS`: `on` (the default) or `off`; anything else stops startup. */
export function dashboardSettingsFromEnv(env: NodeJS.ProcessEnv): DashboardSettings {
  const raw = env['DASHBOARD_BULK_ACTIONS']?.trim() ?? '';
  if (raw !== '' && raw !== 'on' && raw !== 'off')
    throw new Error(`DASHBOARD_BULK_ACTIONS must be "on" or "off", got "${raw}"`);
  return { bulkActions: raw !== 'off' };
}
