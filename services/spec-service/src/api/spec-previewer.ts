import { parseCampaignSpec } from '@campaigns/campaign-spec';
import type { PreviewHead, PreviewPart, PreviewRequest, Problem } from '@campaigns/contracts';
import { MAX_RECORDED_PROBLEMS, type PostgresEventStore } from '@campaigns/events';
import { ApiRequestError } from '@campaigns/service-kit';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
import { chunkRows } from './pages.js';
import { previewRows, type CurrentChangeset } from './preview.js';
import { validSpec } from './valid-spec.js';

/**
 * `campaign.preview`: what applying a spec would do to each repository, computed whole
 * (resolving `on:` against the repository index, comparing with the current state) and never
 * stored. Its reply is streamed — the head, then the rows in chunks — rather than paged by
 * cursor: a cursor would have to resolve again for every page, or keep state in one replica.
 */
export class SpecPreviewer {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly resolver: WorkspaceResolver,
    /** The service's schema, where the process manager's and the status projection's tables are. */
    private readonly schema: string,
  ) {}

  async preview({ fileName, specText }: PreviewRequest): Promise<PreviewPart[]> {
    const { spec, warnings } = validSpec(fileName, specText);
    let resolved;
    try {
      resolved = await this.resolver.resolve(spec);
    } catch (err) {
      throw new ApiRequestError({
        code: 'unavailable',
        message: `resolving the spec's repositories failed: ${(err as Error).message}`,
      });
    }
    const { schema } = this;
    const pool = this.store.pool;
    const currentSpec = await pool.query<{ spec_text: string; file_name: string }>(
      `SELECT a.spec_text, a.file_name FROM ${schema}.pm_campaigns c
         JOIN ${schema}.pm_applies a ON a.apply_id = c.apply_id WHERE c.campaign = $1`,
      [spec.name],
    );
    const previous = currentSpec.rows[0]
      ? parseCampaignSpec(currentSpec.rows[0].spec_text, currentSpec.rows[0].file_name).spec
      : undefined;
    const changesets = await pool.query<CurrentChangeset>(
      `SELECT repository, head_branch AS "headBranch", wanted, host_state AS "hostState"
         FROM ${schema}.status_changesets WHERE campaign = $1 ORDER BY repository, head_branch`,
      [spec.name],
    );
    const rows = previewRows(spec, resolved.workspaces, {
      spec: previous ?? null,
      changesets: changesets.rows,
    });
    const problems: Problem[] = resolved.problems
      .slice(0, MAX_RECORDED_PROBLEMS)
      .map((p) => ({ entry: p.entry, message: p.message }));
    if (resolved.problems.length > MAX_RECORDED_PROBLEMS)
      problems.push({
        entry: 'on',
        message: `${resolved.problems.length - MAX_RECORDED_PROBLEMS} more problems are not shown`,
      });
    const head: PreviewHead = { campaign: spec.name, rowCount: rows.length, problems, warnings };
    return [{ head }, ...chunkRows(rows).map((chunk) => ({ rows: chunk }))];
  }
}
