/** What the dashboard reads at startup, injected as SERVICE_SETTINGS. */
export interface DashboardSettings {
  /**
   * Whether the pages may request bulk operations (`DASHBOARD_BULK_ACTIONS=on`). Off by default:
   * until sign-in exists (S2), whoever reaches the dashboard could comment, merge and close.
   */
  readonly bulkActions: boolean;
}

/** `DASHBOARD_BULK_ACTIONS`: `on` or `off` (the default); anything else stops startup. */
export function dashboardSettingsFromEnv(env: NodeJS.ProcessEnv): DashboardSettings {
  const raw = env['DASHBOARD_BULK_ACTIONS']?.trim() ?? '';
  if (raw !== '' && raw !== 'on' && raw !== 'off')
    throw new Error(`DASHBOARD_BULK_ACTIONS must be "on" or "off", got "${raw}"`);
  return { bulkActions: raw === 'on' };
}
