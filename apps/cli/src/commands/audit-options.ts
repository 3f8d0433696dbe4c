import { UsageError } from '../command.js';
import { parseChangesetFilter, type ChangesetFilter } from '@campaigns/audit/timeline';

/** How audit prints: text for people, JSON (Lines, for the timeline) or YAML documents. */
export type AuditFormat = 'text' | 'json' | 'yaml';

/** What `campaign audit` was asked to do. */
export type AuditRequest =
  | {
      mode: 'timeline';
      campaign: string;
      changeset?: ChangesetFilter;
      since?: Date;
      until?: Date;
      format: AuditFormat;
    }
  | { mode: 'at'; campaign: string; at: Date; format: AuditFormat }
  | { mode: 'verify'; format: AuditFormat };

/** The options of `campaign audit` that take a value, as given on the command line. */
export interface AuditValues {
  changeset?: string;
  since?: string;
  until?: string;
  at?: string;
}

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

/**
 * The request for a campaign (or none) and the options commander read: which mode, and every
 * value checked. Contradictions and bad values are usage errors.
 */
export function auditRequestOf(
  campaign: string | undefined,
  values: AuditValues,
  verify: boolean,
  format: AuditFormat,
): AuditRequest {
  const given = (Object.keys(values) as (keyof AuditValues)[]).filter(
    (k) => values[k] !== undefined,
  );
  if (verify) {
    if (campaign !== undefined || given.length > 0)
      throw new UsageError('--verify checks the whole event log: it takes no campaign or options');
    return { mode: 'verify', format };
  }
  if (campaign === undefined || campaign === '')
    throw new UsageError('audit needs the campaign name, or --verify');

  if (values.at !== undefined) {
    const others = given.filter((k) => k !== 'at').map((k) => `--${k}`);
    if (others.length > 0)
      throw new UsageError(`--at cannot be combined with ${others.join(', ')}`);
    return { mode: 'at', campaign, at: parseTimestamp('--at', values.at), format };
  }

  const request: AuditRequest = { mode: 'timeline', campaign, format };
  if (values.changeset !== undefined) {
    const filter = parseChangesetFilter(values.changeset);
    if (filter === null)
      throw new UsageError(
        `--changeset needs HOST/OWNER/NAME[@BRANCH], e.g. github.com/acme/api@hello-world (got "${values.changeset}")`,
      );
    request.changeset = filter;
  }
  if (values.since !== undefined) request.since = parseTimestamp('--since', values.since);
  if (values.until !== undefined) request.until = parseTimestamp('--until', values.until);
  if (request.since && request.until && request.since > request.until)
    throw new UsageError('--since is after --until');
  return request;
}
