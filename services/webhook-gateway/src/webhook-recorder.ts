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
  ProjectionCheckpoint,
  type EventMetadata,
  type PostgresEventStore,
} from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { RecordedDelivery } from './recorded-delivery.entity.js';
import { TrackedPullRequestEntity } from './tracked-pull-request.entity.js';
import {
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
    /** The gateway's DataSource: its connections search webhook_gateway. */
    private readonly database: DataSource,
    private readonly eventStore: PostgresEventStore,
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
      return (await this.note(this.database.manager, delivery, facts, []))
        ? { outcome: 'ignored', reason: 'unchanged' }
        : { outcome: 'duplicate' };
    }

    const metadata: EventMetadata = {
      correlation_id: delivery.id,
      causation_id: null,
      actor: `github:${facts.sender ?? 'unknown'}`,
      source: SOURCE,
    };
    // One transaction for the note and the appends. A connection that dies while checked out
    // fails its next query instead of crashing, and the pool drops it (the query runner
    // releases it with the error; pg-pool discards a client no longer queryable).
    const runner = this.database.createQueryRunner();
    try {
      // The runner's pg client: the event store appends through it, in the same transaction.
      const client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      const noted = await this.note(
        runner.manager,
        delivery,
        facts,
        tracked.map((t) => t.changesetId),
      );
      if (!noted) {
        await runner.rollbackTransaction();
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
      await runner.commitTransaction();
      return { outcome: 'recorded', changesetIds: tracked.map((t) => t.changesetId) };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Records the delivery id (with the changesets it was recorded for); false if it was already. */
  private async note(
    manager: EntityManager,
    delivery: WebhookDelivery,
    facts: WebhookFacts,
    changesetIds: readonly string[],
  ): Promise<boolean> {
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(RecordedDelivery)
      .values({
        deliveryId: delivery.id,
        event: delivery.event,
        action: delivery.action ?? null,
        repository: facts.repository,
        changesetIds: [...changesetIds],
      })
      .orIgnore()
      // The row this statement inserted, if any: none means the delivery was noted before.
      .returning(['deliveryId'])
      .updateEntity(false)
      .execute();
    return (inserted.raw as unknown[]).length === 1;
  }

  /**
   * The tracked pull requests a delivery concerns, each with whether the projection has applied
   * every event of its changeset's stream yet (only then is what it knows the latest word). One
   * statement: the projection's checkpoint and the stream's version (the event store's
   * `streams`, which has no entity: joined as a subquery) are joined to the rows.
   */
  private async tracked(facts: WebhookFacts): Promise<TrackedRow[]> {
    const query = this.database
      .getRepository(TrackedPullRequestEntity)
      .createQueryBuilder('t')
      .select('t.repository', 'repository')
      .addSelect('t.number', 'number')
      .addSelect('t.changesetId', 'changesetId')
      .addSelect('t.campaign', 'campaign')
      .addSelect('t.headBranch', 'headBranch')
      .addSelect('t.headRefOid', 'headRefOid')
      .addSelect('t.url', 'url')
      .addSelect('t.title', 'title')
      .addSelect('t.state', 'state')
      .addSelect('t.draft', 'draft')
      .addSelect('COALESCE(c.streamVersion = s.version, false)', 'current')
      .leftJoin(
        ProjectionCheckpoint,
        'c',
        `c.projection = :projection AND c.streamId = 'changeset-' || t.changesetId`,
        { projection: trackedPullRequestsProjection.name },
      )
      .leftJoin(
        (streams) =>
          streams
            .select('es.stream_id', 'stream_id')
            .addSelect('es.version', 'version')
            .from('eventstore.streams', 'es'),
        's',
        `s.stream_id = 'changeset-' || t.changesetId`,
      )
      .where('t.repository = :repository', { repository: facts.repository });
    if ('numbers' in facts.target)
      query.andWhere('t.number = ANY(:numbers::int[])', { numbers: facts.target.numbers });
    else query.andWhere('t.headRefOid = :head', { head: facts.target.headSha });
    return query.orderBy('t.number').getRawMany<TrackedRow>();
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
