import type { ChangesetMatch } from '@campaigns/contracts';

/*
 * A changeset match (libs/contracts) as SQL over the status projection's row `s`: what
 * `changesets` lists with a match is what `bulk` with the same match acts on, since both read
 * the same condition. The state is the displayed one, so the caller passes its expression.
 */

/** The checks rollups each match value stands for. */
const CHECKS: Record<NonNullable<ChangesetMatch['checks']>, readonly string[]> = {
  passed: ['SUCCESS'],
  failed: ['FAILURE', 'ERROR'],
  pending: ['PENDING', 'EXPECTED'],
};

/**
 * `s.review` for each match value; pending is a review still required, or none decided yet
 * (the host reports no decision for a repository that requires none).
 */
const REVIEW: Record<NonNullable<ChangesetMatch['review']>, string> = {
  approved: `s.review = 'APPROVED'`,
  'changes-requested': `s.review = 'CHANGES_REQUESTED'`,
  pending: `(s.review IS NULL OR s.review = 'REVIEW_REQUIRED')`,
};

/** A condition with its named parameters (TypeORM's `:name` placeholders). */
export interface MatchCondition {
  sql: string;
  params: Record<string, unknown>;
}

/** The conditions a match makes (none: every changeset); `stateSql` is the displayed state. */
export function matchConditions(match: ChangesetMatch, stateSql: string): MatchCondition[] {
  const conditions: MatchCondition[] = [];
  if (match.state !== undefined)
    conditions.push({ sql: `(${stateSql}) = :matchState`, params: { matchState: match.state } });
  if (match.checks !== undefined)
    conditions.push({
      sql: 's.checks IN (:...matchChecks)',
      params: { matchChecks: [...CHECKS[match.checks]] },
    });
  if (match.review !== undefined) conditions.push({ sql: REVIEW[match.review], params: {} });
  if (match.repository !== undefined)
    conditions.push({
      sql: 's.repository ~ :matchRepository',
      params: { matchRepository: globToRegex(match.repository) },
    });
  return conditions;
}

/**
 * A repository glob as an anchored POSIX regular expression: `**` any run of characters, `*`
 * any run without `/`, `?` one character but `/`; everything else stands for itself.
 */
export function globToRegex(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += /[\\^$.|+()[\]{}]/.test(c) ? `\\${c}` : c;
  }
  return `${out}$`;
}
