import type { CloseRequest, CloseResult, DeleteRequest, DeleteResult } from '@campaigns/contracts';
import type { Authored } from '../identity/caller.js';
import {
  campaignStream,
  ConcurrencyError,
  newEventId,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import { invalidRequest } from '@campaigns/service-kit';
import { metadataFor } from '../desired-state/process-manager.js';
import { notFound } from './not-found.js';
import { campaignLifecycle, type CampaignLifecycle } from './spec-applier.js';

const MAX_ATTEMPTS = 10;

/**
 * `campaign.close` and `campaign.delete`: record CampaignClosed / CampaignDeleted in the campaign's
 * stream, at the version they read it at (a racing apply or close makes them read again). The
 * process manager does the rest: with closeChangesets, it removes the campaign's changesets.
 */
export class CampaignCloser {
  constructor(
    private readonly store: PostgresEventStore,
    /** The schema of the process manager's tables. */
    private readonly schema: string,
    private readonly logger?: EventsLogger,
  ) {}

  async close({ campaign, closeChangesets, actor }: Authored<CloseRequest>): Promise<CloseResult> {
    let closing = 0;
    const closed = await this.record(campaign, actor, 'CampaignClosed', async (current) => {
      if (current.state === 'closed') return null;
      closing = closeChangesets ? await this.wantedChangesets(campaign) : 0;
      return { campaign, closeChangesets, actor };
    });
    if (!closed) return { campaign, closed: false, closingChangesets: 0 };
    this.logger?.info({ campaign, closeChangesets, actor }, 'campaign closed');
    return { campaign, closed: true, closingChangesets: closing };
  }

  async delete({ campaign, actor }: Authored<DeleteRequest>): Promise<DeleteResult> {
    await this.record(campaign, actor, 'CampaignDeleted', (current) => {
      if (current.state !== 'closed')
        throw invalidRequest(
          `campaign "${campaign}" is not closed; close it first (campaign close ${campaign}, with --close-changesets to close its pull requests)`,
        );
      return Promise.resolve({ campaign, actor });
    });
    this.logger?.info({ campaign, actor }, 'campaign deleted');
    return { campaign };
  }

  /**
   * Appends `type` at the version the campaign's stream was read at, with the data `decide`
   * makes of where the campaign stands (null: nothing to record); a racing append makes it read
   * again. A campaign never applied, or deleted, is not found. Returns whether it recorded.
   */
  private async record(
    campaign: string,
    actor: string,
    type: 'CampaignClosed' | 'CampaignDeleted',
    decide: (current: CampaignLifecycle) => Promise<Record<string, unknown> | null>,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const current = await campaignLifecycle(this.store, campaign);
      if (current.state === 'none' || current.state === 'deleted') throw notFound(campaign);
      const data = await decide(current);
      if (data === null) return false;
      try {
        await this.store.append(
          campaignStream(campaign),
          [{ event_id: newEventId(), type, data }],
          {
            expected: current.version!,
            metadata: metadataFor(current.applyId!, null, actor),
          },
        );
        return true;
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** How many changesets the process manager wants for the campaign now. */
  private async wantedChangesets(campaign: string): Promise<number> {
    const { rows } = await this.store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.schema}.pm_changesets WHERE campaign = $1 AND NOT removed`,
      [campaign],
    );
    return rows[0]?.n ?? 0;
  }
}
