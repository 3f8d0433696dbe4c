import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  openProjectionDatabase,
  type TestDatabase,
} from '@campaigns/events/testing';
import { changesetProjection } from './changeset-projection.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');

/** Events of one changeset stream, numbered and timed in order, as the store would return them. */
class Stream {
  readonly id = randomUUID().replaceAll('-', '');
  private version = 0n;
  readonly events: StoredEvent[] = [];

  constructor(private readonly clock: { t: number }) {}

  add(type: string, data: Record<string, unknown> = {}): string {
    const eventId = randomUUID();
    this.version += 1n;
    this.clock.t += 1000;
    this.events.push({
      global_position: 0n,
      transaction_id: 0n,
      event_id: eventId,
      stream_id: `changeset-${this.id}`,
      stream_version: this.version,
      type,
      schema_version: 1,
      data: {
        changesetId: this.id,
        campaign: 'hello-world',
        repository: 'github.com/acme/api',
        headBranch: 'hello-world',
        ...data,
      },
      metadata: { correlation_id: 'apply', causation_id: null, actor: 'ada', source: 'test' },
      recorded_at: new Date(this.clock.t),
      hash: '',
    });
    return eventId;
  }

  spec(title = 'Hello'): string {
    return this.add('ChangesetSpecComputed', {
      spec: {
        baseRef: 'main',
        baseRevision: 'a'.repeat(40),
        title,
        body: `Body of ${title}`,
        commit: { message: 'Say hello', author: { name: 'Ada', email: 'ada@example.com' } },
        published: true,
        diff: { sha256: 'd'.repeat(64), size: 10 },
        files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
      },
    });
  }
}

/** Every queue transition the projection knows, for `copies` changesets of each kind. */
function scenario(copies: number): {
  first: StoredEvent[];
  second: StoredEvent[];
  leased: string[];
} {
  const clock = { t: T0 };
  const first: StoredEvent[] = [];
  const second: StoredEvent[] = [];
  const leased: string[] = [];
  for (let i = 0; i < copies; i++) {
    // Published in one go: no queue row is left; the events carry the pushed commit and body.
    const published = new Stream(clock);
    const a = published.spec();
    published.add('ChangesetUpdated', {
      specEventId: a,
      operation: 'push',
      commitSha: 'c'.repeat(40),
      diffSha256: 'd'.repeat(64),
      message: 'Say hello',
      author: { name: 'Ada', email: 'ada@example.com' },
      number: null,
    });
    published.add('ChangesetPublished', {
      specEventId: a,
      number: 7,
      url: 'u',
      nodeId: 'n',
      draft: false,
      baseRef: 'main',
      headRefOid: 'c'.repeat(40),
      title: 'Hello',
      body: 'Body of Hello',
    });
    published.add('ChangesetReconciled', { specEventId: a, operations: ['push', 'publish'] });
    // A retryable failure: due again after its wait, whatever the spec's time was.
    const retried = new Stream(clock);
    const b = retried.spec();
    retried.add('ReconcileFailed', {
      specEventId: b,
      operation: 'push',
      retryable: true,
      attempt: 1,
      message: 'x',
      httpStatus: 502,
      retryInMs: 5000,
    });
    // A newer spec arrived while the older one was being reconciled: due at once.
    const overtaken = new Stream(clock);
    const c1 = overtaken.spec();
    overtaken.spec('Hello again');
    overtaken.add('ChangesetReconciled', { specEventId: c1, operations: [] });
    // A terminal failure dequeues; the removal after it queues a fresh row.
    const removed = new Stream(clock);
    const d = removed.spec();
    removed.add('ReconcileFailed', {
      specEventId: d,
      operation: 'plan',
      retryable: false,
      attempt: 1,
      message: 'no',
      httpStatus: null,
      retryInMs: null,
    });
    removed.add('ChangesetSpecRemoved', { reason: 'repository-left-spec' });
    first.push(...published.events, ...retried.events, ...overtaken.events, ...removed.events);
    // A changeset whose queue row a worker holds when its round's events and a new spec arrive.
    const held = new Stream(clock);
    const e = held.spec();
    first.push(...held.events);
    held.add('ChangesetReconciled', { specEventId: e, operations: [] });
    held.spec('Changed');
    second.push(...held.events.slice(1));
    leased.push(held.id);
    // Observations change the actual state only.
    const observed = new Stream(clock);
    const f = observed.spec();
    observed.add('ChangesetPublished', {
      specEventId: f,
      number: 9,
      url: 'u',
      nodeId: 'n',
      draft: true,
      baseRef: 'main',
      headRefOid: 'e'.repeat(40),
      title: 'Hello',
      body: 'Body of Hello',
    });
    first.push(...observed.events);
    observed.add('ChangesetObserved', {
      source: 'sync',
      number: 9,
      state: 'closed',
      draft: false,
      headRefOid: 'f'.repeat(40),
    });
    second.push(...observed.events.slice(2));
  }
  return { first, second, leased };
}

describe('the changeset projection applying batches', () => {
  let db: TestDatabase;
  const projection = changesetProjection();
  /** A DataSource per schema: its connections search that schema, as a service's do. */
  const databases = new Map<string, DataSource>();

  beforeAll(async () => {
    db = await createTestDatabase('reconciler_projection');
    for (const schema of ['one_by_one', 'batched', 'small', 'large'])
      databases.set(schema, await openProjectionDatabase(db.url, schema, [projection]));
  });
  afterAll(async () => {
    for (const database of databases.values()) await database.destroy();
    await db?.drop();
  });

  /** Applies `batches` in order, each in its own transaction; returns the statements sent. */
  async function apply(schema: string, batches: StoredEvent[][]): Promise<number> {
    let statements = 0;
    const runner = databases.get(schema)!.createQueryRunner();
    const tx = (await runner.connect()) as PoolClient;
    // Counted on the pg client, under TypeORM: every statement the handler sends to PostgreSQL.
    const send = tx.query.bind(tx) as (...args: unknown[]) => unknown;
    const counting = (...args: unknown[]) => {
      statements++;
      return send(...args);
    };
    try {
      for (const events of batches) {
        await runner.startTransaction();
        tx.query = counting as PoolClient['query'];
        try {
          await projection.handle(events, { manager: runner.manager, tx, schema });
        } finally {
          // The client's own query (its prototype's) again, before it goes back to the pool.
          delete (tx as { query?: unknown }).query;
        }
        await runner.commitTransaction();
      }
    } finally {
      await runner.release();
    }
    return statements;
  }

  const lease = (schema: string, ids: string[]) =>
    db.pool.query(
      `UPDATE ${schema}.reconcile_queue SET leased_by = 'w', lease_expires_at = now(), wait_version = 3
        WHERE changeset_id = ANY($1::text[])`,
      [ids],
    );

  const tables = async (schema: string) => ({
    changesets: (await db.pool.query(`SELECT * FROM ${schema}.changesets ORDER BY changeset_id`))
      .rows,
    specs: (await db.pool.query(`SELECT * FROM ${schema}.changeset_specs ORDER BY spec_event_id`))
      .rows,
    queue: (await db.pool.query(`SELECT * FROM ${schema}.reconcile_queue ORDER BY changeset_id`))
      .rows,
  });

  it('leaves the same rows and queue whether events come one at a time or all in one batch', async () => {
    const { first, second, leased } = scenario(2);

    await apply(
      'one_by_one',
      first.map((e) => [e]),
    );
    await lease('one_by_one', leased);
    await apply(
      'one_by_one',
      second.map((e) => [e]),
    );
    await apply('batched', [first]);
    await lease('batched', leased);
    await apply('batched', [second]);

    const oneByOne = await tables('one_by_one');
    expect(await tables('batched')).toEqual(oneByOne);
    // The queue holds what each story says: a retry, an overtaken round, a removal, a new spec
    // (and the observed changeset's spec, never reconciled).
    expect(oneByOne.queue.map((r: { reason: string }) => r.reason).sort()).toEqual(
      [
        'ChangesetSpecComputed',
        'ChangesetSpecComputed',
        'ChangesetSpecRemoved',
        'newer spec',
        'retry',
      ]
        .flatMap((r) => [r, r])
        .sort(),
    );
    // The held row was deleted with its lease and queued afresh for the new spec.
    const held = oneByOne.queue.filter((r: { changeset_id: string }) =>
      leased.includes(r.changeset_id),
    );
    expect(held).toEqual([
      expect.objectContaining({
        leased_by: null,
        wait_version: '0',
        reason: 'ChangesetSpecComputed',
      }),
      expect.objectContaining({
        leased_by: null,
        wait_version: '0',
        reason: 'ChangesetSpecComputed',
      }),
    ]);
  });

  it('sends as many statements for a batch of 60 changesets as for one of 6', async () => {
    const small = scenario(1);
    const large = scenario(10);

    const forSmall = await apply('small', [small.first]);
    const forLarge = await apply('large', [large.first]);

    expect(large.first.length).toBeGreaterThan(100);
    expect(forLarge).toBe(forSmall);
    // One read of the rows, one insert of specs, one delete and two upserts of queue rows, one
    // upsert of rows: nothing more under TypeORM.
    expect(forSmall).toBe(6);
  });
});
