import { UsageError } from '../command.js';
import { parseChangesetFilter, type ChangesetFilter } from '../audit/timeline.js';

/** What `campaign audit` was asked to do. */
export type AuditRequest =
  | {
      mode: 'timeline';
      campaign: string;
      changeset?: ChangesetFilter;
      since?: Date;
      until?: Date;
      json: boolean;
    }
  | { mode: 'at'; campaign: string; at: Date; json: boolean }
  | { mode: 'verify'; json: boolean };

const VALUE_OPTIONS = ['--changeset', '--since', '--until', '--at'] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

const ISO =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 timestamp: a date (midnight UTC) or a date and time, UTC unless it names an
 * offset. Anything else, or an impossible date, is a usage error.
 */
export function parseTimestamp(option: string, value: string): Date {
  const match = ISO.exec(value.trim());
  if (match) {
    const text = value.trim().replace(' ', 'T');
    const zoned = text.includes('T') && match[1] === undefined ? `${text}Z` : text;
    const date = new Date(zoned);
    const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
    const calendar = new Date(Date.UTC(y, m - 1, d));
    if (
      !Number.isNaN(date.getTime()) &&
      calendar.getUTCFullYear() === y &&
      calendar.getUTCMonth() === m - 1 &&
      calendar.getUTCDate() === d
    )
      return date;
  }
  throw new UsageError(
    `${option} needs an ISO 8601 timestamp such as 2026-01-31 or 2026-01-31T12:00:00Z (got "${value}")`,
  );
}

export function parseAuditArgs(args: readonly string[]): AuditRequest {
  const values = new Map<ValueOption, string>();
  const positional: string[] = [];
  let json = false;
  let verify = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--verify') verify = true;
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = (eq === -1 ? arg : arg.slice(0, eq)) as ValueOption;
      if (!VALUE_OPTIONS.includes(name)) throw new UsageError(`unknown option "${arg}" for audit`);
      const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      if (values.has(name)) throw new UsageError(`${name} is given twice`);
      values.set(name, value);
    } else if (arg.startsWith('-') && arg !== '-')
      throw new UsageError(`unknown option "${arg}" for audit`);
    else positional.push(arg);
  }
  if (positional.length > 1)
    throw new UsageError(`unexpected argument "${positional[1]}" for audit`);
  const campaign = positional[0];

  if (verify) {
    if (campaign !== undefined || values.size > 0)
      throw new UsageError('--verify checks the whole event log: it takes no campaign or options');
    return { mode: 'verify', json };
  }
  if (campaign === undefined || campaign === '')
    throw new UsageError('audit needs the campaign name, or --verify');

  const at = values.get('--at');
  if (at !== undefined) {
    const others = [...values.keys()].filter((k) => k !== '--at');
    if (others.length > 0)
      throw new UsageError(`--at cannot be combined with ${others.join(', ')}`);
    return { mode: 'at', campaign, at: parseTimestamp('--at', at), json };
  }

  const request: AuditRequest = { mode: 'timeline', campaign, json };
  const changeset = values.get('--changeset');
  if (changeset !== undefined) {
    const filter = parseChangesetFilter(changeset);
    if (filter === null)
      throw new UsageError(
        `--changeset needs HOST/OWNER/NAME[@BRANCH], e.g. github.com/acme/api@hello-world (got "${changeset}")`,
      );
    request.changeset = filter;
  }
  const since = values.get('--since');
  const until = values.get('--until');
  if (since !== undefined) request.since = parseTimestamp('--since', since);
  if (until !== undefined) request.until = parseTimestamp('--until', until);
  if (request.since && request.until && request.since > request.until)
    throw new UsageError('--since is after --until');
  return request;
}
