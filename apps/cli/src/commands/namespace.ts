import { campaignKey, DEFAULT_NAMESPACE, NAMESPACE_PATTERN } from '@campaigns/events';
import { Option, type Command as CommanderCommand } from 'commander';
import { UsageError } from '../command.js';
import { once } from './options.js';

/** The environment variable `-n, --namespace` sets for one command (and a shell may set). */
export const NAMESPACE_ENV = 'CAMPAIGN_NAMESPACE';

/** The commands that act in a namespace and so take `-n, --namespace NS`. */
export const NAMESPACED_COMMANDS: ReadonlySet<string> = new Set([
  'preview',
  'apply',
  'status',
  'changesets',
  'list',
  'close',
  'delete',
  'audit',
  'burndown',
]);

/** Declares `-n, --namespace NS`. */
export function addNamespaceOption(command: CommanderCommand): void {
  command.addOption(
    new Option(
      '-n, --namespace <NS>',
      `the namespace: a user's, an organization's or "${DEFAULT_NAMESPACE}" (default: $${NAMESPACE_ENV}, else your own)`,
    ).argParser(once('--namespace')),
  );
}

/** The namespace asked for (`-n`, else $CAMPAIGN_NAMESPACE), checked; undefined: the caller's. */
export function namespaceOf(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[NAMESPACE_ENV]?.trim();
  if (value === undefined || value === '') return undefined;
  if (!NAMESPACE_PATTERN.test(value))
    throw new UsageError(
      `"${value.slice(0, 80)}" is not a namespace: 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  return value;
}

/**
 * The key a campaign is recorded under in the event log, for the commands that read it directly
 * (audit, burndown): `NS/NAME` as given, else NAME in the namespace asked for, else in
 * `default` (they have no caller to default to).
 */
export function recordedCampaignKey(name: string, env: NodeJS.ProcessEnv): string {
  const namespace = namespaceOf(env);
  const slash = name.indexOf('/');
  if (slash >= 0) {
    if (namespace !== undefined && name.slice(0, slash).toLowerCase() !== namespace.toLowerCase())
      throw new UsageError(`"${name}" is not in namespace ${namespace}`);
    return name;
  }
  return campaignKey({ namespace: namespace ?? DEFAULT_NAMESPACE, name });
}
