import { randomUUID } from 'node:crypto';
import type { ApplyRequest, ApplyResult } from '@campaigns/contracts';
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

  async apply({ fileName, specText, actor }: ApplyRequest): Promise<ApplyResult> {
    const { spec, warnings } = validSpec(fileName, specText);
    const campaign = spec.name;
    const specHash = sha256Hex(specText);
    const stream = campaignStream(campaign);
    const applyId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const current = await this.currentApplication(campaign);
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

  /** The campaign stream's version and its latest SpecApplied, straight from the event store. */
  private async currentApplication(
    campaign: string,
  ): Promise<{ version: bigint | null; specHash: string | null; applyId: string | null }> {
    const stream = campaignStream(campaign);
    const version = await this.store.streamVersion(stream);
    if (version === null) return { version, specHash: null, applyId: null };
    const { rows } = await this.store.pool.query<{ spec_hash: string; apply_id: string }>(
      `SELECT data->>'specHash' AS spec_hash, data->>'applyId' AS apply_id FROM eventstore.events
        WHERE stream_id = $1 AND type = 'SpecApplied' AND stream_version <= $2
        ORDER BY stream_version DESC LIMIT 1`,
      [stream, version.toString()],
    );
    return { version, specHash: rows[0]?.spec_hash ?? null, applyId: rows[0]?.apply_id ?? null };
  }
}
