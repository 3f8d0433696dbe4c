import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  API_VERBS,
  apiSubject,
  AUTHORIZATION_HEADER,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type TokensCreateResult,
  type UsersListResult,
  type WhoamiResult,
} from '@campaigns/contracts';
import { campaignsCatalogue, PostgresEventStore, type EventsTopology } from '@campaigns/events';
import {
  connectTestNats,
  createTestDatabase,
  deleteStream,
  uniqueTopology,
  type TestDatabase,
} from '@campaigns/events/testing';
import type { ServiceApplication } from '@campaigns/service-kit';
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { SPEC_SERVICE_SCHEMA } from '../spec-service.database.js';
import { bearerHeaders, issueTestToken } from '../test-support/access-token.js';
import { IdentityError, IdentityStore } from './identity-store.js';
import { FixedResolver } from '../test-support/fixed-resolver.js';
import { startSpecService } from '../test-support/start-spec-service.js';

const SPEC = `name: identity-check
description: Who applied this?
on:
  - repository: github.com/acme/a
steps:
  - run: echo Hello >> README.md
    container: alpine:3
changesetTemplate:
  title: Hello
  body: Hello
  branch: hello
  commit:
    message: Hello
`;

describe('identity: every request is authenticated, the actor is the token’s user', () => {
  let db: TestDatabase;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let service: ServiceApplication;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    db = await createTestDatabase('spec_identity_int');
    nats = await connectTestNats();
    topology = uniqueTopology();
    const store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    service = await startSpecService({ store, nats, topology, resolver: new FixedResolver() });
    admin = await issueTestToken(db.pool, 'root', { siteAdmin: true });
    alice = await issueTestToken(db.pool, 'alice');
  });

  afterAll(async () => {
    await service?.close();
    await deleteStream(nats, topology);
    await nats?.close();
    await db?.drop();
  });

  async function request<T>(verb: ApiVerb, body: object, sent?: MsgHdrs): Promise<ApiReply<T>> {
    const reply = await nats.request(apiSubject(topology, verb), JSON.stringify(body), {
      timeout: 20_000,
      ...(sent === undefined ? {} : { headers: sent }),
    });
    return reply.json<ApiReply<T>>();
  }
  const as = <T>(token: string, verb: ApiVerb, body: object = {}) =>
    request<T>(verb, body, bearerHeaders(token));
  /** Events a request records (the process manager records others in the background). */
  const requestedEvents = async () =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM eventstore.events
          WHERE type IN ('SpecApplied', 'CampaignClosed', 'CampaignDeleted', 'BulkOperationRequested')`,
      )
    ).rows[0]!.n;
  const rawHeader = (value: string) => {
    const h = headers();
    h.set(AUTHORIZATION_HEADER, value);
    return h;
  };

  it('records the authenticated user as the actor and ignores an actor the request claims', async () => {
    const reply = await as<ApplyResult>(alice, 'apply', {
      fileName: 'identity.campaign.yaml',
      specText: SPEC,
      actor: 'mallory',
    });
    // In alice's own namespace, where a campaign applied without --namespace goes.
    expect(reply).toMatchObject({ ok: true, campaign: 'alice/identity-check', unchanged: false });

    const { rows } = await db.pool.query<{ data: { actor: string }; metadata: { actor: string } }>(
      `SELECT data, metadata FROM eventstore.events WHERE type = 'SpecApplied'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.data.actor).toBe('alice');
    expect(rows[0]!.metadata.actor).toBe('alice');
    expect(JSON.stringify(rows)).not.toContain('mallory');
  });

  it('refuses every verb without a token, with an unknown one or a malformed header, and records nothing', async () => {
    // The positive signal first: alice's token works, so the refusals below are about the token.
    expect(await as<WhoamiResult>(alice, 'whoami')).toMatchObject({ ok: true, user: 'alice' });
    const before = await requestedEvents();
    const unknown = `cmp_${'x'.repeat(43)}`;
    const attempts: [string, MsgHdrs | undefined][] = [
      ['no header', undefined],
      ['an unknown token', bearerHeaders(unknown)],
      ['another scheme', rawHeader(`Basic ${Buffer.from('alice:pw').toString('base64')}`)],
      ['not a campaign token', bearerHeaders('ghp_notours')],
    ];
    for (const verb of API_VERBS) {
      for (const [what, sent] of attempts) {
        const reply = await request(
          verb,
          // Would be recorded if it were let through: a new campaign, or closing the existing one.
          {
            fileName: 'x.yaml',
            specText: SPEC.replace('identity-check', 'sneaky'),
            campaign: 'identity-check',
            actor: 'alice',
          },
          sent,
        );
        expect({ verb, what, reply }).toMatchObject({
          reply: { ok: false, error: { code: 'unauthenticated' } },
        });
        if (!reply.ok) {
          expect(reply.error.message).toMatch(/^not authenticated: /);
          expect(reply.error.message).not.toContain(unknown);
        }
      }
    }
    expect(await requestedEvents()).toBe(before);
  });

  it('lets only site admins manage users and tokens, and a new user’s token works at once', async () => {
    expect(await as(alice, 'users-create', { name: 'carol' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringMatching(/^not allowed: .*alice/) },
    });
    expect(await as(alice, 'tokens-create', { user: 'alice' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });

    expect(await as(admin, 'users-create', { name: 'carol' })).toMatchObject({
      ok: true,
      user: { name: 'carol', siteAdmin: false, activeTokens: 0 },
    });
    expect(await as(admin, 'users-create', { name: 'Carol' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: 'user "Carol" exists already' },
    });
    expect(await as(admin, 'users-create', { name: 'no spaces' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect(await as(admin, 'tokens-create', { user: 'nobody' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: 'there is no user "nobody"' },
    });

    const issued = await as<TokensCreateResult>(admin, 'tokens-create', { user: 'carol' });
    if (!issued.ok) throw new Error(issued.error.message);
    expect(issued.token).toMatch(/^cmp_[A-Za-z0-9_-]{43}$/);
    expect(await as<WhoamiResult>(issued.token, 'whoami')).toEqual({
      ok: true,
      user: 'carol',
      siteAdmin: false,
      namespaces: ['carol'],
    });
    const users = await as<UsersListResult>(admin, 'users-list');
    expect(users.ok && users.users.map((u) => [u.name, u.siteAdmin, u.activeTokens])).toEqual([
      ['alice', false, 1],
      ['carol', false, 1],
      ['root', true, 1],
    ]);

    // Only the token's hash is kept.
    const { rows } = await db.pool.query(`SELECT * FROM spec_service.access_tokens`);
    expect(JSON.stringify(rows)).not.toContain(issued.token);
  });

  it('a revoked token stops working at the next request, and nothing it sends is recorded', async () => {
    const bob = await issueTestToken(db.pool, 'bob');
    expect(await as<WhoamiResult>(bob, 'whoami')).toMatchObject({ ok: true, user: 'bob' });
    const before = await requestedEvents();

    expect(await as(admin, 'tokens-revoke', { user: 'bob' })).toEqual({ ok: true, revoked: 1 });

    expect(await as(bob, 'whoami')).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    expect(
      await as(bob, 'apply', {
        fileName: 'bob.campaign.yaml',
        specText: SPEC.replace('identity-check', 'bobs'),
      }),
    ).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(await requestedEvents()).toBe(before);
    // Revoking by id: one token of the user goes, the other still works.
    const first = await as<TokensCreateResult>(admin, 'tokens-create', { user: 'bob' });
    const second = await as<TokensCreateResult>(admin, 'tokens-create', { user: 'bob' });
    if (!first.ok || !second.ok) throw new Error('tokens-create failed');
    expect(await as(admin, 'tokens-revoke', { id: first.id })).toEqual({ ok: true, revoked: 1 });
    expect(await as(first.token, 'whoami')).toMatchObject({ ok: false });
    expect(await as(second.token, 'whoami')).toMatchObject({ ok: true, user: 'bob' });
    expect(await as(admin, 'tokens-revoke', { id: first.id })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
  });
  it('never gives one namespace name to both a user and an organization, even when both are created at the same moment', async () => {
    const store = new IdentityStore(db.pool, SPEC_SERVICE_SCHEMA);
    for (let i = 0; i < 25; i++) {
      const outcomes = await Promise.allSettled([
        store.createUser(`racer${i}`, false),
        store.createOrganization(`RACER${i}`, 'private'),
        store.ensureUser(`Racer${i}`, true),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(IdentityError);
    }
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT lower(name) FROM ${SPEC_SERVICE_SCHEMA}.users WHERE name ILIKE 'racer%'
         UNION ALL
         SELECT lower(name) FROM ${SPEC_SERVICE_SCHEMA}.organizations WHERE name ILIKE 'racer%') AS named`,
    );
    expect(rows[0]!.n).toBe(25);
  });
});
