// The publication ledger against real PostgreSQL: slots first come, first served, limits kept
// when admissions race, reservations kept across rounds and given back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { migrateDatabase, openDatabase } from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { reconcilerDatabase } from '../reconciler-database.js';
import { parseCampaignsConfig } from '@campaigns/codehost';
import { LedgerContentPacer } from './publication-gate.js';
import { PublicationLedger, PublicationLedgerEntry } from './publication-ledger.js';
import { rolloutClock } from './rollout-clock.js';
import type { SlotRules } from './publication-slot.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-07T10:00:00Z');
const rules: SlotRules = {
  windows: null,
  contentLimits: { perMinute: 3, perHour: 100 },
  campaignRate: null,
  marginMs: 0,
};

describe('PublicationLedger (real PostgreSQL)', () => {
  let db: TestDatabase;
  let database: DataSource;
  let ledger: PublicationLedger;
  let host = 0;

  beforeAll(async () => {
    db = await createTestDatabase('publication_ledger');
    database = await openDatabase({
      url: db.url,
      applicationName: 'ledger-test',
      ...reconcilerDatabase,
    });
    await migrateDatabase(database);
    ledger = new PublicationLedger(database);
  }, 60_000);
  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
  });

  const request = (hostId: string, changesetId: string, now: number, r = rules) => ({
    hostId,
    campaign: `campaign-${hostId}`,
    changesetId,
    now: () => now,
    rules: r,
  });
  const newHost = () => `host-${++host}`;

  it('lets as many through at once as the limit allows, however many ask together, and schedules the rest in order', async () => {
    const h = newHost();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ledger.admit(request(h, `cs-${i}`, T0))),
    );
    const admitted = answers.filter((a) => a.admitted);
    expect(admitted).toHaveLength(3);
    const waiting = answers
      .flatMap((a) => (a.admitted ? [] : [a.at]))
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    // Three more a minute later (counted from when they were let through), two after that.
    expect(waiting).toEqual([
      T0 + MIN + 1,
      T0 + MIN + 1,
      T0 + MIN + 1,
      T0 + 2 * MIN + 2,
      T0 + 2 * MIN + 2,
    ]);
    const rows = await database.getRepository(PublicationLedgerEntry).findBy({ hostId: h });
    expect(rows.filter((r) => r.sentAt !== null)).toHaveLength(3);
  });

  it('keeps a reservation across rounds and lets it through when due, once the limits have room', async () => {
    const h = newHost();
    const first = await ledger.admit(request(h, 'a', T0));
    const second = await ledger.admit(
      request(h, 'b', T0, { ...rules, contentLimits: { perMinute: 1, perHour: 100 } }),
    );
    expect(first.admitted).toBe(true);
    expect(second).toEqual({ admitted: false, at: T0 + MIN + 1, reason: 'content limit' });
    const early = await ledger.admit(
      request(h, 'b', T0 + 1000, { ...rules, contentLimits: { perMinute: 1, perHour: 100 } }),
    );
    expect(early).toEqual({ admitted: false, at: T0 + MIN + 1, reason: 'content limit' });
    // The first one's round ran late: it counts from when it finished, so the second waits on.
    if (first.admitted) await ledger.done(first.entryId, T0 + 5000);
    const due = await ledger.admit(
      request(h, 'b', T0 + MIN + 1, { ...rules, contentLimits: { perMinute: 1, perHour: 100 } }),
    );
    expect(due).toEqual({ admitted: false, at: T0 + MIN + 5001, reason: 'content limit' });
    const later = await ledger.admit(
      request(h, 'b', T0 + MIN + 5001, { ...rules, contentLimits: { perMinute: 1, perHour: 100 } }),
    );
    expect(later.admitted).toBe(true);
  });

  it('gives a reservation back when its changeset no longer publishes, so the next is not held behind it', async () => {
    const h = newHost();
    const slow = { ...rules, contentLimits: { perMinute: 1, perHour: 100 } };
    expect((await ledger.admit(request(h, 'x', T0, slow))).admitted).toBe(true);
    expect(await ledger.admit(request(h, 'y', T0, slow))).toMatchObject({ at: T0 + MIN + 1 });
    await ledger.cancel('y');
    expect(await ledger.admit(request(h, 'w', T0, slow))).toMatchObject({ at: T0 + MIN + 1 });
    const remaining = await database.getRepository(PublicationLedgerEntry).findBy({ hostId: h });
    expect(remaining.map((r) => r.changesetId).sort()).toEqual(['w', 'x']);
  });

  it('paces bulk writes in the same ledger by the host’s limits, apart from publications', async () => {
    const config = (settings: string) =>
      parseCampaignsConfig(
        `codeHosts:
  - id: gh
    kind: github
    url: https://github.com
    apiUrl: https://api.github.com
    tokenEnv: T
    ${settings}
`,
        'c.yaml',
        { T: 'ghp_0123456789abcdefghij' },
      );
    const clock = rolloutClock();
    const pacer = new LedgerContentPacer(
      database,
      config('contentLimits: { perMinute: 1, perHour: 10 }'),
      clock,
    );
    const first = await pacer.admit({ hostId: 'gh', campaign: 'c', changesetId: 'bulk-a' });
    expect(first.admitted).toBe(true);
    if (first.admitted) await first.done?.();
    const second = await pacer.admit({ hostId: 'gh', campaign: 'c', changesetId: 'bulk-b' });
    expect(second.admitted).toBe(false);
    if (!second.admitted) expect(second.at.getTime()).toBeGreaterThan(Date.now() + 50_000);
    const rows = await database.getRepository(PublicationLedgerEntry).findBy({ hostId: 'gh' });
    expect(rows.map((r) => [r.campaign, r.changesetId]).sort()).toEqual([
      ['bulk c', 'bulk bulk-a'],
      ['bulk c', 'bulk bulk-b'],
    ]);
    // A host with no limits and no windows is not paced: nothing is recorded.
    const unpaced = new LedgerContentPacer(database, config('contentLimits: false'), clock);
    expect(await unpaced.admit({ hostId: 'gh', campaign: 'c', changesetId: 'x' })).toEqual({
      admitted: true,
    });
  });
});
