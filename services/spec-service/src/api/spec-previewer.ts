import { parseCampaignSpec } from '@campaigns/campaign-spec';
import {
  MAX_PREVIEW_DIFFS_BYTES,
  MAX_PREVIEW_DIFF_BYTES,
  type PreviewHead,
  type PreviewPart,
  type PreviewRequest,
  type PreviewRow,
  type Problem,
} from '@campaigns/contracts';
import { MAX_RECORDED_PROBLEMS } from '@campaigns/events';
import { ApiRequestError } from '@campaigns/service-kit';
import type { EntityManager } from 'typeorm';
import { staticBranchCollision } from '../desired-state/branch-collisions.js';
import { PmApply } from '../desired-state/pm-apply.entity.js';
import { PmCampaign } from '../desired-state/pm-campaign.entity.js';
import { StatusCampaign } from '../status/status-campaign.entity.js';
import { StatusChangeset } from '../status/status-changeset.entity.js';
import { StatusExecution } from '../status/status-execution.entity.js';
import { IMPORTED } from '../status/status-evolve.js';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
import { chunkRows } from './pages.js';
import { keptDiffs, previewRows, withDiffs, type CurrentChangeset } from './preview.js';
import { validSpec } from './valid-spec.js';

/** Diff blobs read in one statement. */
const DIFF_BATCH = 100;

/**
 * `campaign.preview`: what applying a spec would do to each repository, computed whole
 * (resolving `on:` against the repository index, comparing with the current state) and never
 * stored. Its reply is streamed — the head, then the rows in chunks — rather than paged by
 * cursor: a cursor would have to resolve again for every page, or keep state in one replica.
 */
export class SpecPreviewer {
  constructor(
    private readonly resolver: WorkspaceResolver,
    /** Over the service's schema: the process manager's and the status projection's tables. */
    private readonly manager: EntityManager,
  ) {}

  /** `keyOf`: the campaign's recorded key for its name, once the caller may preview it. */
  async preview(
    { fileName, specText, diff = false }: PreviewRequest,
    keyOf: (name: string) => Promise<string> = async (name) => name,
  ): Promise<PreviewPart[]> {
    const { spec, warnings } = validSpec(fileName, specText);
    const campaign = await keyOf(spec.name);
    let resolved;
    try {
      resolved = await this.resolver.resolve(spec);
    } catch (err) {
      throw new ApiRequestError({
        code: 'unavailable',
        message: `resolving the spec's repositories failed: ${(err as Error).message}`,
      });
    }
    const current = await this.manager
      .createQueryBuilder(PmCampaign, 'c')
      .innerJoin(PmApply, 'a', 'a.apply_id = c.apply_id')
      // A deleted campaign has no status row: its name previews as a new campaign.
      .innerJoin(StatusCampaign, 'sc', 'sc.campaign = c.campaign')
      .select('a.spec_text', 'spec_text')
      .addSelect('a.file_name', 'file_name')
      .addSelect('c.closed', 'closed')
      .where('c.campaign = :campaign', { campaign })
      .getRawOne<{ spec_text: string; file_name: string; closed: boolean }>();
    const closed = current?.closed ?? false;
    const previous = current
      ? parseCampaignSpec(current.spec_text, current.file_name).spec
      : undefined;
    const changesets = await this.manager
      .createQueryBuilder(StatusChangeset, 's')
      .select('s.repository', 'repository')
      .addSelect('s.head_branch', 'headBranch')
      .addSelect('s.wanted', 'wanted')
      .addSelect('s.host_state', 'hostState')
      .addSelect(`s.published = '${IMPORTED}'`, 'imported')
      .addSelect('s.diff_sha256', 'diffSha256')
      .where('s.campaign = :campaign', { campaign })
      .orderBy('s.repository')
      .addOrderBy('s.head_branch')
      .getRawMany<CurrentChangeset>();
    // Repositories every execution of the current application changed nothing in.
    const noChanges = await this.manager
      .createQueryBuilder(StatusExecution, 'e')
      .innerJoin(StatusCampaign, 'sc', 'sc.campaign = e.campaign AND sc.apply_id = e.apply_id')
      .select('e.repository', 'repository')
      .where('e.campaign = :campaign', { campaign })
      .groupBy('e.repository')
      .having(`bool_and(e.state = 'empty')`)
      .getRawMany<{ repository: string }>();
    const planned = previewRows(
      spec,
      resolved.workspaces,
      {
        spec: previous ?? null,
        changesets,
        noChanges: new Set(noChanges.map((r) => r.repository)),
      },
      resolved.imports,
    );
    const rows = diff ? await this.withDiffs(planned, changesets) : planned;
    const problems: Problem[] = resolved.problems
      .slice(0, MAX_RECORDED_PROBLEMS)
      .map((p) => ({ entry: p.entry, message: p.message }));
    // What apply would refuse before running anything, first.
    if (closed)
      problems.unshift({
        entry: 'name',
        message: `campaign "${campaign}" is closed: apply would refuse this spec (delete the campaign to apply one of that name anew)`,
      });
    const collision = staticBranchCollision(spec, resolved.workspaces);
    if (collision !== null)
      problems.unshift({ entry: 'changesetTemplate.branch', message: collision });
    if (resolved.problems.length > MAX_RECORDED_PROBLEMS)
      problems.push({
        entry: 'on',
        message: `${resolved.problems.length - MAX_RECORDED_PROBLEMS} more problems are not shown`,
      });
    const head: PreviewHead = { campaign, rowCount: rows.length, problems, warnings };
    return [{ head }, ...chunkRows(rows).map((chunk) => ({ rows: chunk }))];
  }

  /**
   * The rows with the diffs their changesets keep, read from the event store's blobs in batches
   * until the preview's diff budget is spent (each read no longer than a row can carry).
   */
  private async withDiffs(
    rows: PreviewRow[],
    changesets: readonly CurrentChangeset[],
  ): Promise<PreviewRow[]> {
    const kept = keptDiffs(rows, changesets);
    const texts = new Map<string, string>();
    let read = 0;
    for (let i = 0; i < kept.length && read < MAX_PREVIEW_DIFFS_BYTES; i += DIFF_BATCH) {
      const batch = [...new Set(kept.slice(i, i + DIFF_BATCH).map((k) => k.sha256))];
      const blobs: { sha256: string; content: Buffer }[] = await this.manager.query(
        `SELECT sha256, substring(content FROM 1 FOR $2) AS content
           FROM eventstore.blobs WHERE sha256 = ANY ($1::text[])`,
        // One byte more than a row carries: enough to tell that it was cut.
        [batch, MAX_PREVIEW_DIFF_BYTES + 1],
      );
      for (const b of blobs) {
        texts.set(b.sha256, b.content.toString('utf8'));
        read += b.content.length;
      }
    }
    return withDiffs(rows, kept, texts);
  }
}
