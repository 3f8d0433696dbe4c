import { randomUUID } from 'node:crypto';
import type { ApplyRequest, ApplyResult } from '@campaigns/contracts';
import type { Authored } from '../identity/caller.js';
import {
  campaignStream,
  ConcurrencyError,
  EventTooLargeError,
  newEventId,
  SecretInEventError,
  sha256Hex,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import { invalidRequest } from '@campaigns/service-kit';
import { metadataFor } from '../desired-state/process-manager.js';
import { validSpec } from './valid-spec.js';

const MAX_APPLY_ATTEMPTS = 10;

/**
 * `campaign.apply`: records a valid spec as the campaign's next SpecApplied, unless it is the
 * spec already applied. Racing applies of one campaign are serialised by the stream version.
 */
export class SpecApplier {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly logger?: EventsLogger,
  ) {}

  /** `keyOf`: the campaign's recorded key for its name, once the caller may apply it. */
  async apply(
    { fileName, specText, actor }: Authored<ApplyRequest>,
    keyOf: (name: string) => Promise<string> = async (name) => name,
  ): Promise<ApplyResult> {
    const { spec, warnings } = validSpec(fileName, specText);
    const campaign = await keyOf(spec.name);
    const specHash = sha256Hex(specText);
    const stream = campaignStream(campaign);
    const applyId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const current = await campaignLifecycle(this.store, campaign);
      if (current.state === 'closed')
        throw invalidRequest(
          `campaign "${campaign}" is closed: no spec can be applied to it. Delete it (campaign delete ${campaign}) to apply a campaign of that name anew`,
        );
      if (current.specHash === specHash) {
        return { campaign, applyId: current.applyId!, specHash, unchanged: true, warnings };
      }
      try {
        await this.store.append(
          stream,
          [
            {
              event_id: newEventId(),
              type: 'SpecApplied',
              data: { campaign, applyId, specHash, specText, fileName, actor },
            },
          ],
          {
            expected: current.version ?? 'no_stream',
            metadata: metadataFor(applyId, null, actor),
          },
        );
        this.logger?.info({ campaign, applyId, actor }, 'spec applied');
        return { campaign, applyId, specHash, unchanged: false, warnings };
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_APPLY_ATTEMPTS) continue;
        if (err instanceof EventTooLargeError)
          throw invalidRequest(
            `the spec is too large to record: ${err.bytes} bytes as an event, over the event store's limit of ${err.limit}`,
          );
        if (err instanceof SecretInEventError)
          throw invalidRequest(
            'the spec contains the value of a configured secret (a code host token or webhook secret); it is not recorded — reference secrets by name instead',
          );
        throw err;
      }
    }
  }
}

/** Where a campaign stands, from its stream: never applied (or deleted), applied, or closed. */
export interface CampaignLifecycle {
  /** The stream's version (null: no stream). */
  version: bigint | null;
  state: 'none' | 'applied' | 'closed' | 'deleted';
  /** The current application's (state `applied` or `closed`). */
  specHash: string | null;
  applyId: string | null;
}

/**
 * The campaign's stream version and its latest SpecApplied, CampaignClosed or CampaignDeleted,
 * straight from the event store; `specHash`/`applyId` of the latest SpecApplied before a close.
 */
export async function campaignLifecycle(
  store: PostgresEventStore,
  campaign: string,
): Promise<CampaignLifecycle> {
  const stream = campaignStream(campaign);
  const version = await store.streamVersion(stream);
  if (version === null) return { version, state: 'none', specHash: null, applyId: null };
  const { rows } = await store.pool.query<{ type: string; spec_hash: string; apply_id: string }>(
    `SELECT type, data->>'specHash' AS spec_hash, data->>'applyId' AS apply_id
       FROM eventstore.events
      WHERE stream_id = $1 AND stream_version <= $2
        AND type IN ('SpecApplied', 'CampaignClosed', 'CampaignDeleted')
      ORDER BY stream_version DESC LIMIT 2`,
    [stream, version.toString()],
  );
  const [last, before] = rows;
  if (last === undefined) return { version, state: 'none', specHash: null, applyId: null };
  if (last.type === 'CampaignDeleted')
    return { version, state: 'deleted', specHash: null, applyId: null };
  // A close follows the application it closed (a closed campaign takes no new one).
  const applied = last.type === 'CampaignClosed' ? before : last;
  return {
    version,
    state: last.type === 'CampaignClosed' ? 'closed' : 'applied',
    specHash: applied?.spec_hash ?? null,
    applyId: applied?.apply_id ?? null,
  };
}
