import type { WebhookDelivery } from '@campaigns/codehost';
import {
  changesetStream,
  deterministicEventId,
  type EventMetadata,
  type PostgresEventStore,
} from '@campaigns/events';
import type pg from 'pg';
import {
  TRACKED_PULL_REQUESTS_TABLE,
  type TrackedPullRequest,
} from './tracked-pull-requests.projection.js';
import { webhookFacts, type WebhookFacts } from './webhook-observations.js';

export const WEBHOOK_GATEWAY_SCHEMA = 'webhook_gateway';
const SOURCE = 'webhook-gateway';

/** What became of a verified delivery. */
export type RecordOutcome =
  | { outcome: 'recorded'; changesetIds: string[] }
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; reason: 'event' | 'untracked' };

/**
 * Turns verified deliveries into ChangesetObserved events on the streams of the tracked
 * changesets they concern. The delivery id is recorded in the same transaction as the events,
 * so a redelivered webhook finds it and records nothing.
 */
export class WebhookRecorder {
  constructor(
    private readonly pool: pg.Pool,
    private readonly eventStore: PostgresEventStore,
    private readonly schema = WEBHOOK_GATEWAY_SCHEMA,
  ) {}

  async record(delivery: WebhookDelivery): Promise<RecordOutcome> {
    const facts = webhookFacts(delivery);
    if (facts === null) return { outcome: 'ignored', reason: 'event' };
    const tracked = await this.tracked(facts);
    if (tracked.length === 0) return { outcome: 'ignored', reason: 'untracked' };

    const metadata: EventMetadata = {
      correlation_id: delivery.id,
      causation_id: null,
      actor: `github:${facts.sender ?? 'unknown'}`,
      source: SOURCE,
    };
    const client = await this.pool.connect();
    // A connection that dies while checked out fails its next query instead of crashing.
    const onError = (): void => undefined;
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const inserted = await client.query(
        `INSERT INTO ${this.schema}.deliveries (delivery_id, event, action, repository, changeset_ids)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (delivery_id) DO NOTHING`,
        [
          delivery.id,
          delivery.event,
          delivery.action ?? null,
          facts.repository,
          tracked.map((t) => t.changesetId),
        ],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');
        return { outcome: 'duplicate' };
      }
      for (const pr of tracked) {
        await this.eventStore.append(
          changesetStream(pr.changesetId),
          [
            {
              event_id: deterministicEventId(SOURCE, delivery.id, pr.changesetId),
              type: 'ChangesetObserved',
              data: observation(delivery.id, facts, pr),
            },
          ],
          { expected: 'any', metadata },
          client,
        );
      }
      await client.query('COMMIT');
      return { outcome: 'recorded', changesetIds: tracked.map((t) => t.changesetId) };
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.removeListener('error', onError);
      // A connection that failed mid-transaction is dropped rather than reused.
      client.release(broken);
    }
  }

  private async tracked(facts: WebhookFacts): Promise<TrackedPullRequest[]> {
    const table = `${this.schema}.${TRACKED_PULL_REQUESTS_TABLE}`;
    const columns = `repository, number, changeset_id AS "changesetId", campaign,
                     head_branch AS "headBranch", head_ref_oid AS "headRefOid"`;
    const { rows } =
      'numbers' in facts.target
        ? await this.pool.query<TrackedPullRequest>(
            `SELECT ${columns} FROM ${table} WHERE repository = $1 AND number = ANY($2::int[]) ORDER BY number`,
            [facts.repository, facts.target.numbers],
          )
        : await this.pool.query<TrackedPullRequest>(
            `SELECT ${columns} FROM ${table} WHERE repository = $1 AND head_ref_oid = $2 ORDER BY number`,
            [facts.repository, facts.target.headSha],
          );
    return rows;
  }
}

/** The ChangesetObserved payload for one tracked pull request. */
export function observation(
  deliveryId: string,
  facts: WebhookFacts,
  pr: TrackedPullRequest,
): Record<string, unknown> {
  return {
    changesetId: pr.changesetId,
    campaign: pr.campaign,
    repository: pr.repository,
    headBranch: pr.headBranch,
    source: 'webhook',
    deliveryId,
    trigger: facts.trigger,
    number: pr.number,
    ...facts.fields,
    ...(facts.sender === undefined ? {} : { sender: facts.sender }),
  };
}
