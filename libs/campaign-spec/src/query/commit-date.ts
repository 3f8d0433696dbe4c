/**
 * The dates `repo:has.commit.after(…)` and `repohascommitafter:` take. Sourcegraph hands them to
 * git's approximate date parser; this reads the forms its documentation uses, and refuses the rest
 * rather than guess:
 *
 * - `2024-01-31`, `2024-01-31T12:00:00Z`, `2024-01-31 12:00` (UTC unless an offset is given)
 * - `january 31 2024`, `jan 31, 2024`
 * - `3 days ago`, `1 month ago`, `a week ago` (seconds, minutes, hours, days, weeks, months, years)
 * - `now`, `today` (midnight UTC), `yesterday` (midnight UTC the day before),
 *   `last week`, `last month`, `last year`
 */

/** How the supported forms are described to a user whose date is not one of them. */
export const COMMIT_DATE_FORMS =
  'a date such as 2024-01-31 or "january 31 2024", a relative time such as "3 days ago" or "1 month ago", or now, today, yesterday, last week, last month, last year';

const UNITS: Readonly<Record<string, 'ms' | 'month'>> = {
  second: 'ms',
  minute: 'ms',
  hour: 'ms',
  day: 'ms',
  week: 'ms',
  month: 'month',
  year: 'month',
};
const UNIT_MS: Readonly<Record<string, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** The instant `text` names, relative times counted back from `now`; undefined when unreadable. */
export function parseCommitDate(text: string, now: Date): Date | undefined {
  const value = text
    .trim()
    .replace(/^["']|["']$/g, '')
    .trim()
    .toLowerCase();
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?$/.exec(
      value,
    );
  if (iso) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', zone = 'z'] = iso;
    const offset = zone === 'z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
    return validDate(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`, Number(y), Number(mo), Number(d));
  }
  const named = /^([a-z]+)\.? (\d{1,2}),? (\d{4})$/.exec(value);
  if (named) {
    const month = MONTHS.findIndex((m) => m === named[1] || m.slice(0, 3) === named[1]) + 1;
    if (month === 0) return undefined;
    const [y, d] = [Number(named[3]), Number(named[2])];
    const iso8601 = `${named[3]}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}T00:00:00Z`;
    return validDate(iso8601, y, month, d);
  }
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (value === 'now') return new Date(now.getTime());
  if (value === 'today') return new Date(midnight);
  if (value === 'yesterday') return new Date(midnight - UNIT_MS.day!);
  const last = /^last (week|month|year)$/.exec(value);
  if (last) return ago(now, 1, last[1]!);
  const relative = /^(\d+|an?|one) ([a-z]+?)s? ago$/.exec(value);
  if (relative && Object.hasOwn(UNITS, relative[2]!)) {
    const amount = /^\d+$/.test(relative[1]!) ? Number(relative[1]) : 1;
    return ago(now, amount, relative[2]!);
  }
  return undefined;
}

function ago(now: Date, amount: number, unit: string): Date | undefined {
  if (UNITS[unit] === 'ms') {
    const at = now.getTime() - amount * UNIT_MS[unit]!;
    return Number.isFinite(at) && at >= -8.64e15 ? new Date(at) : undefined;
  }
  const months = unit === 'year' ? amount * 12 : amount;
  const at = new Date(now.getTime());
  at.setUTCMonth(at.getUTCMonth() - months);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The date, unless the day does not exist in that month (2024-02-30). */
function validDate(iso8601: string, year: number, month: number, day: number): Date | undefined {
  const date = new Date(iso8601);
  if (Number.isNaN(date.getTime())) return undefined;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  return calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day ? date : undefined;
}
