import { randomUUID } from 'node:crypto';
import {
  changesetStream,
  LoopComponent,
  silentLogger,
  sleep,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import {
  changesetObserved,
  observationDiffers,
  observedFields,
  type ChangesetObservation,
  type ChecksState,
  type CodeHosts,
  type ReviewDecision,
} from '@campaigns/codehost';
import type { DataSource } from 'typeorm';
import { ChangesetEntity } from '../projection/changeset.entity.js';

/** pg_try_advisory_lock key: one syncer pass at a time across every reconciler replica. */
const SYNC_LOCK_KEY = 0x63_61_6d_73; // "cams"

export interface ChangesetSyncerOptions {
  /** The service's DataSource: its connections search the schema of the `changesets` rows. */
  database: DataSource;
  store: PostgresEventStore;
  codeHosts: CodeHosts;
  /** Time between passes (default 5 minutes); webhooks carry changes in between. */
  intervalMs?: number;
  logger?: EventsLogger;
}

/** What a pass reads of a published changeset (its number is never null: see the query). */
type SyncRow = Pick<
  ChangesetEntity,
  | 'changesetId'
  | 'campaign'
  | 'repository'
  | 'headBranch'
  | 'externalState'
  | 'draft'
  | 'title'
  | 'headRefOid'
> & { number: number };

export interface SyncPass {
  /** False when another replica held the pass's lock, so this one did nothing. */
  ran: boolean;
  checked: number;
  observed: number;
  failedHosts: number;
}

/**
 * The periodic syncer: re-reads every published, unmerged changeset from its code host (one
 * batched GraphQL query per 100) and records a `ChangesetObserved` (source `sync`) for each that
 * differs from the projected actual state, or from the checks and review decision last observed
 * — whatever a lost (or misordered) webhook failed to tell. It only
 * records; like webhooks, what it sees changes nothing on the code host by itself. One replica
 * syncs at a time (an advisory lock); the others skip that pass.
 */
export class ChangesetSyncer extends LoopComponent {
  readonly name = 'changeset-syncer';
  private readonly logger: EventsLogger;

  constructor(private readonly options: ChangesetSyncerOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
  }

  protected async run(signal: AbortSignal): Promise<void> {
    const interval = this.options.intervalMs ?? 300_000;
    while (!signal.aborted) {
      await sleep(interval, signal);
      if (signal.aborted) return;
      try {
        const pass = await this.syncOnce();
        if (pass.ran) this.logger.info({ ...pass }, 'changesets synced');
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'sync pass failed; next pass later');
      }
    }
  }

  /** One pass over every published, unmerged changeset. */
  async syncOnce(): Promise<SyncPass> {
    // A session lock: taken and given back on the one connection this runner holds.
    const lock = this.options.database.createQueryRunner();
    try {
      const got = (await lock.query('SELECT pg_try_advisory_lock($1) AS ok', [SYNC_LOCK_KEY])) as {
        ok: boolean;
      }[];
      if (!got[0]!.ok) return { ran: false, checked: 0, observed: 0, failedHosts: 0 };
      try {
        return await this.pass();
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [SYNC_LOCK_KEY]);
      }
    } finally {
      await lock.release();
    }
  }

  private async pass(): Promise<SyncPass> {
    const rows = (await this.options.database
      .getRepository(ChangesetEntity)
      .createQueryBuilder('c')
      .select([
        'c.changesetId',
        'c.campaign',
        'c.repository',
        'c.headBranch',
        'c.number',
        'c.externalState',
        'c.draft',
        'c.title',
        'c.headRefOid',
      ])
      .where(
        `c.number IS NOT NULL AND NOT c.detached AND c.external_state IS DISTINCT FROM 'merged'`,
      )
      .orderBy('c.changesetId')
      .getMany()) as SyncRow[];
    const byHost = new Map<ReturnType<CodeHosts['forRepository']>, SyncRow[]>();
    for (const row of rows) {
      let host;
      try {
        host = this.options.codeHosts.forRepository(row.repository);
      } catch {
        continue; // no configured code host serves it any more; the reconciler reports that
      }
      byHost.set(host, [...(byHost.get(host) ?? []), row]);
    }
    const passId = randomUUID();
    let observed = 0;
    let failedHosts = 0;
    for (const [host, group] of byHost) {
      let observations: ChangesetObservation[];
      try {
        observations = await host.loadChangesets(
          group.map((r) => ({ repo: r.repository, number: r.number })),
        );
      } catch (error) {
        failedHosts++;
        this.logger.warn({ host: host.id, err: (error as Error).message }, 'sync: read failed');
        continue;
      }
      const found = new Map(observations.map((o) => [`${o.repo}#${o.number}`, o]));
      const lastSeen = await this.lastObservedChecksAndReview(group);
      for (const row of group) {
        const o = found.get(`${row.repository}#${row.number}`);
        const known = {
          externalState: row.externalState,
          draft: row.draft,
          title: row.title,
          headRefOid: row.headRefOid,
          // Never observed: no checks reported, a review required.
          checks: lastSeen.get(row.changesetId)?.checks ?? null,
          reviewDecision: lastSeen.get(row.changesetId)?.reviewDecision ?? null,
        };
        if (o === undefined || !observationDiffers(known, o)) continue;
        await this.options.store.append(
          changesetStream(row.changesetId),
          [
            {
              type: 'ChangesetObserved',
              data: changesetObserved(
                {
                  changesetId: row.changesetId,
                  campaign: row.campaign,
                  repository: row.repository,
                  headBranch: row.headBranch,
                },
                o.number,
                observedFields(o),
                { source: 'sync' },
              ),
            },
          ],
          {
            expected: 'any',
            metadata: {
              correlation_id: `sync:${passId}`,
              causation_id: null,
              actor: 'reconciler-service',
              source: 'reconciler-service',
            },
          },
        );
        observed++;
      }
    }
    return { ran: true, checked: rows.length, observed, failedHosts };
  }

  /**
   * The checks and review decision each changeset's latest observations named (webhooks or an
   * earlier pass), which the projection does not keep: read from the changeset streams, so a
   * pass corrects them too when the code host's rollup says otherwise.
   */
  private async lastObservedChecksAndReview(
    rows: readonly SyncRow[],
  ): Promise<Map<string, { checks?: ChecksState; reviewDecision?: ReviewDecision }>> {
    const found = (await this.options.database.query(
      `SELECT w.changeset_id AS "changesetId",
              (SELECT e.data->'checks' FROM eventstore.events e
                WHERE e.stream_id = w.stream_id AND e.type = 'ChangesetObserved' AND e.data ? 'checks'
                ORDER BY e.stream_version DESC LIMIT 1) AS checks,
              (SELECT e.data->'reviewDecision' FROM eventstore.events e
                WHERE e.stream_id = w.stream_id AND e.type = 'ChangesetObserved'
                  AND e.data ? 'reviewDecision'
                ORDER BY e.stream_version DESC LIMIT 1) AS "reviewDecision"
         FROM unnest($1::text[], $2::text[]) AS w(changeset_id, stream_id)`,
      [rows.map((r) => r.changesetId), rows.map((r) => changesetStream(r.changesetId))],
    )) as {
      changesetId: string;
      checks: ChecksState | undefined;
      reviewDecision: ReviewDecision | undefined;
    }[];
    return new Map(
      found.map(({ changesetId, checks, reviewDecision }) => [
        changesetId,
        {
          ...(checks === null || checks === undefined ? {} : { checks }),
          ...(reviewDecision === null || reviewDecision === undefined ? {} : { reviewDecision }),
        },
      ]),
    );
  }
}
