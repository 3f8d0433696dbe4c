import {
  changesetObserved,
  type ChangesetObservedData,
  type ObservedFields,
  type WebhookDelivery,
  type WebhookFacts,
} from '@campaigns/codehost';
import {
  changesetStream,
  deterministicEventId,
  type EventMetadata,
  type PostgresEventStore,
} from '@campaigns/events';
import type pg from 'pg';
import {
  TRACKED_PULL_REQUESTS_TABLE,
  trackedPullRequestsProjection,
  type TrackedPullRequest,
} from './tracked-pull-requests.projection.js';

export const WEBHOOK_GATEWAY_SCHEMA = 'webhook_gateway';
const SOURCE = 'webhook-gateway';

/** What became of a verified delivery. */
export type RecordOutcome =
  | { outcome: 'recorded'; changesetIds: string[] }
  | { outcome: 'duplicate' }
  | { outcome: 'ignored'; reason: 'event' | 'untracked' | 'unchanged' };

/** A tracked pull request, and whether the projection has applied every event of its stream. */
type TrackedRow = TrackedPullRequest & { current: boolean };

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

  /** Records what a verified delivery says (`facts`, from its code host) about tracked PRs. */
  async record(delivery: WebhookDelivery, facts: WebhookFacts | null): Promise<RecordOutcome> {
    if (facts === null) return { outcome: 'ignored', reason: 'event' };
    const tracked = await this.tracked(facts);
    if (tracked.length === 0) return { outcome: 'ignored', reason: 'untracked' };
    if (tracked.every((pr) => echoes(facts, pr))) {
      // Nothing the events do not already say (typically the reconciler's own edit coming
      // back): the delivery is noted, so a redelivery still answers as a duplicate, and no
      // observation is appended.
      return (await this.note(this.pool, delivery, facts, []))
        ? { outcome: 'ignored', reason: 'unchanged' }
        : { outcome: 'duplicate' };
    }

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
      const noted = await this.note(
        client,
        delivery,
        facts,
        tracked.map((t) => t.changesetId),
      );
      if (!noted) {
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

  /** Records the delivery id (with the changesets it was recorded for); false if it was already. */
  private async note(
    db: pg.Pool | pg.PoolClient,
    delivery: WebhookDelivery,
    facts: WebhookFacts,
    changesetIds: readonly string[],
  ): Promise<boolean> {
    const inserted = await db.query(
      `INSERT INTO ${this.schema}.deliveries (delivery_id, event, action, repository, changeset_ids)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (delivery_id) DO NOTHING`,
      [delivery.id, delivery.event, delivery.action ?? null, facts.repository, changesetIds],
    );
    return inserted.rowCount === 1;
  }

  /**
   * The tracked pull requests a delivery concerns, each with whether the projection has applied
   * every event of its changeset's stream yet (only then is what it knows the latest word).
   */
  private async tracked(facts: WebhookFacts): Promise<TrackedRow[]> {
    const table = `${this.schema}.${TRACKED_PULL_REQUESTS_TABLE}`;
    const select = `SELECT t.repository, t.number, t.changeset_id AS "changesetId", t.campaign,
                           t.head_branch AS "headBranch", t.head_ref_oid AS "headRefOid",
                           t.url, t.title, t.state, t.draft,
                           COALESCE(c.stream_version = s.version, false) AS current
                      FROM ${table} t
                      LEFT JOIN ${this.schema}.projection_checkpoints c
                        ON c.projection = $3 AND c.stream_id = 'changeset-' || t.changeset_id
                      LEFT JOIN eventstore.streams s ON s.stream_id = 'changeset-' || t.changeset_id`;
    const projection = trackedPullRequestsProjection.name;
    const { rows } =
      'numbers' in facts.target
        ? await this.pool.query<TrackedRow>(
            `${select} WHERE t.repository = $1 AND t.number = ANY($2::int[]) ORDER BY t.number`,
            [facts.repository, facts.target.numbers, projection],
          )
        : await this.pool.query<TrackedRow>(
            `${select} WHERE t.repository = $1 AND t.head_ref_oid = $2 ORDER BY t.number`,
            [facts.repository, facts.target.headSha, projection],
          );
    return rows;
  }
}

/** The fields of a pull request delivery that the recorder compares with the events. */
const SHOWN_FIELDS = new Set<keyof ObservedFields>([
  'url',
  'title',
  'state',
  'draft',
  'headRefOid',
]);

/**
 * A pull request delivery that says only what the events already say of a pull request: every
 * field it carries is one the projection follows and equals it, and the projection is current.
 * Reviews, checks and statuses are always recorded.
 */
function echoes(facts: WebhookFacts, pr: TrackedRow): boolean {
  if (!pr.current || !facts.trigger.startsWith('pull_request.')) return false;
  const fields = Object.entries(facts.fields) as [keyof ObservedFields, unknown][];
  return (
    fields.length > 0 &&
    fields.every(
      ([name, value]) =>
        SHOWN_FIELDS.has(name) && value !== undefined && pr[name as keyof TrackedRow] === value,
    )
  );
}

/** The ChangesetObserved payload for one tracked pull request. */
export function observation(
  deliveryId: string,
  facts: WebhookFacts,
  pr: TrackedPullRequest,
): ChangesetObservedData {
  return changesetObserved(pr, pr.number, facts.fields, {
    source: 'webhook',
    deliveryId,
    trigger: facts.trigger,
    ...(facts.sender === undefined ? {} : { sender: facts.sender }),
  });
}
