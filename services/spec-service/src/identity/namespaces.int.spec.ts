import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  apiSubject,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type ListResult,
  type WhoamiResult,
} from '@campaigns/contracts';
import {
  campaignsCatalogue,
  campaignStream,
  EventRelay,
  newEventId,
  PostgresEventStore,
  securityStream,
  type EventsTopology,
} from '@campaigns/events';
import {
  connectTestNats,
  createTestDatabase,
  deleteStream,
  eventually,
  uniqueTopology,
  type TestDatabase,
} from '@campaigns/events/testing';
import type { ServiceApplication } from '@campaigns/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import { bearerHeaders, issueTestToken } from '../test-support/access-token.js';
import { FixedResolver } from '../test-support/fixed-resolver.js';
import { helloWorldSpec } from '../test-support/hello-world-spec.js';
import { startSpecService } from '../test-support/start-spec-service.js';

const HELLO = helloWorldSpec();
/** The same campaign with another description: a new application of it. */
const HELLO_AGAIN = HELLO.replace('Add Hello World', 'Add Hello World again');

describe('namespaces: campaigns belong to a user or an organization, and only its members change them', () => {
  let db: TestDatabase;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let store: PostgresEventStore;
  let relay: EventRelay;
  let service: ServiceApplication;
  let root: string;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    db = await createTestDatabase('spec_namespaces_int');
    nats = await connectTestNats();
    topology = uniqueTopology();
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    service = await startSpecService({ store, nats, topology, resolver: new FixedResolver() });
    root = await issueTestToken(db.pool, 'root', { siteAdmin: true });
    alice = await issueTestToken(db.pool, 'alice');
    bob = await issueTestToken(db.pool, 'bob');
    carol = await issueTestToken(db.pool, 'carol');
  });

  afterAll(async () => {
    await service?.close();
    await relay?.stop();
    await deleteStream(nats, topology);
    await nats?.close();
    await db?.drop();
  });

  async function as<T>(token: string, verb: ApiVerb, body: object = {}): Promise<ApiReply<T>> {
    const reply = await nats.request(apiSubject(topology, verb), JSON.stringify(body), {
      timeout: 20_000,
      headers: bearerHeaders(token),
    });
    return reply.json<ApiReply<T>>();
  }
  const apply = (token: string, namespace?: string, specText = HELLO) =>
    as<ApplyResult>(token, 'apply', {
      fileName: 'hello.campaign.yaml',
      specText,
      ...(namespace === undefined ? {} : { namespace }),
    });
  /** The campaign's status once the projection has it (the positive signal of a read). */
  async function statusOf(token: string, namespace: string, campaign: string) {
    let reply: ApiReply<CampaignStatus> | undefined;
    await eventually(async () => {
      reply = await as<CampaignStatus>(token, 'get', { namespace, campaign });
      return reply.ok || reply.error.code !== 'not-found';
    });
    return reply!;
  }
  /** The reply of a refusal whose message starts with `start`. */
  const forbidden = (start: string) => ({
    ok: false,
    error: { code: 'forbidden', message: expect.stringMatching(new RegExp(`^${start}`)) },
  });
  const eventsOf = async (stream: string) =>
    (await store.readStream(stream)).map((e) => ({ type: e.type, data: e.data }));
  const specApplied = async () =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM eventstore.events WHERE type = 'SpecApplied'`,
      )
    ).rows[0]!.n;

  it('keeps two users’ hello-world apart: each applies into their own namespace and sees their own', async () => {
    const mine = await apply(alice);
    const theirs = await apply(bob);
    expect(mine).toMatchObject({ ok: true, campaign: 'alice/hello-world', unchanged: false });
    expect(theirs).toMatchObject({ ok: true, campaign: 'bob/hello-world', unchanged: false });
    if (!mine.ok || !theirs.ok) throw new Error('apply failed');
    expect(mine.applyId).not.toBe(theirs.applyId);

    // Distinct streams, each with its own application by its own user.
    expect(await eventsOf(campaignStream('alice/hello-world'))).toEqual([
      {
        type: 'SpecApplied',
        data: expect.objectContaining({ actor: 'alice', applyId: mine.applyId }),
      },
    ]);
    expect(await eventsOf(campaignStream('bob/hello-world'))).toEqual([
      {
        type: 'SpecApplied',
        data: expect.objectContaining({ actor: 'bob', applyId: theirs.applyId }),
      },
    ]);

    expect(await statusOf(alice, 'alice', 'hello-world')).toMatchObject({
      ok: true,
      campaign: 'alice/hello-world',
      applyId: mine.applyId,
    });
    expect(await statusOf(bob, 'bob', 'hello-world')).toMatchObject({
      ok: true,
      campaign: 'bob/hello-world',
      applyId: theirs.applyId,
    });
    // Without a namespace, each user's own; lists show only the namespace's campaigns.
    expect(await as(bob, 'get', { campaign: 'hello-world' })).toMatchObject({
      ok: true,
      applyId: theirs.applyId,
    });
    const list = await as<ListResult>(alice, 'list');
    expect(list.ok && list.campaigns.map((c) => c.campaign)).toEqual(['alice/hello-world']);
  });

  it('refuses a user who applies into or reads another user’s namespace, records the refusal and nothing else', async () => {
    // The positive signal first: alice's campaign is there and readable by alice.
    expect(await statusOf(alice, 'alice', 'hello-world')).toMatchObject({ ok: true });
    const applied = await specApplied();

    const write = await apply(bob, 'alice', HELLO_AGAIN);
    expect(write).toEqual({
      ok: false,
      error: {
        code: 'forbidden',
        message:
          "forbidden: bob may not apply in namespace alice (namespace alice is another user's)",
      },
    });
    const reads = [
      await as(bob, 'get', { namespace: 'alice', campaign: 'hello-world' }),
      await as(bob, 'get', { campaign: 'alice/hello-world' }),
      await as(bob, 'changesets', { campaign: 'alice/hello-world' }),
      await as(bob, 'list', { namespace: 'alice' }),
    ];
    for (const reply of reads)
      expect(reply).toMatchObject(forbidden('forbidden: bob may not read in namespace alice'));
    expect(
      await as(bob, 'close', {
        namespace: 'alice',
        campaign: 'hello-world',
        closeChangesets: true,
      }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    expect(await specApplied()).toBe(applied);
    // alice's campaign has her one application, and no close.
    expect((await eventsOf(campaignStream('alice/hello-world'))).map((e) => e.type).sort()).toEqual(
      ['SpecApplied', 'WorkspacesResolved'],
    );
    const denied = await eventsOf(securityStream('alice'));
    const reason = "namespace alice is another user's";
    const onCampaign = (action: string) => ({
      actor: 'bob',
      action,
      namespace: 'alice',
      campaign: 'alice/hello-world',
      reason,
    });
    expect(denied.map((e) => e.data)).toEqual([
      onCampaign('apply'),
      onCampaign('read'),
      onCampaign('read'),
      onCampaign('read'),
      // list names no campaign
      { actor: 'bob', action: 'read', namespace: 'alice', reason },
      onCampaign('close'),
    ]);
    expect(denied.every((e) => e.type === 'AccessDenied')).toBe(true);
    // A bulk operation's results are read like its campaign.
    const bulk = await as<{ operationId: string }>(alice, 'bulk', {
      campaign: 'hello-world',
      operationId: '0c6f4f0e-33a4-4c53-8d3e-2a4b9c1d7e55',
      operation: 'publish',
    });
    expect(bulk).toMatchObject({ ok: true, campaign: 'alice/hello-world' });
    const results = { operationId: '0c6f4f0e-33a4-4c53-8d3e-2a4b9c1d7e55' };
    expect(await as(alice, 'bulk-results', results)).toMatchObject({ ok: true });
    expect(await as(bob, 'bulk-results', results)).toMatchObject(
      forbidden('forbidden: bob may not read in namespace alice'),
    );
    // An unknown namespace is a plain error, and nothing is recorded for it.
    expect(await apply(bob, 'nowhere')).toEqual({
      ok: false,
      error: { code: 'invalid-request', message: 'there is no namespace "nowhere"' },
    });
  });

  it('lets members of an organization apply and close in it; a private one is closed to others', async () => {
    expect(await as(alice, 'orgs-create', { name: 'acme' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await as(root, 'orgs-create', { name: 'acme' })).toEqual({
      ok: true,
      org: { name: 'acme', visibility: 'private' },
    });
    expect(await as(root, 'orgs-create', { name: 'alice' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: 'the namespace "alice" exists already' },
    });
    expect(await as(root, 'orgs-add-member', { org: 'acme', user: 'alice' })).toEqual({
      ok: true,
      org: 'acme',
      user: 'alice',
      added: true,
    });
    expect(await as<WhoamiResult>(alice, 'whoami')).toMatchObject({
      ok: true,
      namespaces: ['alice', 'acme'],
    });

    expect(await apply(alice, 'acme')).toMatchObject({ ok: true, campaign: 'acme/hello-world' });
    expect(await statusOf(alice, 'acme', 'hello-world')).toMatchObject({ ok: true });
    expect(await as(carol, 'get', { namespace: 'acme', campaign: 'hello-world' })).toMatchObject({
      ok: false,
      error: {
        code: 'forbidden',
        message:
          'forbidden: carol may not read in namespace acme (organization acme is private and carol is not a member)',
      },
    });
    expect(await apply(carol, 'acme', HELLO_AGAIN)).toMatchObject(
      forbidden('forbidden: carol may not apply in namespace acme'),
    );
    expect(
      await as(alice, 'close', {
        namespace: 'acme',
        campaign: 'hello-world',
        closeChangesets: false,
      }),
    ).toMatchObject({ ok: true, campaign: 'acme/hello-world', closed: true });
  });

  it('lets anyone read a public organization’s campaigns, and only its members change them', async () => {
    expect(await as(root, 'orgs-create', { name: 'oss', visibility: 'public' })).toMatchObject({
      ok: true,
    });
    await as(root, 'orgs-add-member', { org: 'oss', user: 'bob' });
    expect(await apply(bob, 'oss')).toMatchObject({ ok: true, campaign: 'oss/hello-world' });

    expect(await statusOf(carol, 'oss', 'hello-world')).toMatchObject({
      ok: true,
      campaign: 'oss/hello-world',
    });
    const list = await as<ListResult>(carol, 'list', { namespace: 'oss' });
    expect(list.ok && list.campaigns.map((c) => c.campaign)).toEqual(['oss/hello-world']);
    const applied = await specApplied();
    expect(await apply(carol, 'oss', HELLO_AGAIN)).toMatchObject({
      ok: false,
      error: {
        code: 'forbidden',
        message: expect.stringMatching(
          /^forbidden: carol may not apply in namespace oss \(carol is not a member/,
        ),
      },
    });
    expect(
      await as(carol, 'bulk', {
        namespace: 'oss',
        campaign: 'hello-world',
        operationId: '6f1c4c52-8f38-4c1e-9d7a-3f2a2f0f2b11',
        operation: 'publish',
      }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await specApplied()).toBe(applied);
    expect((await eventsOf(securityStream('oss'))).map((e) => e.data)).toEqual([
      expect.objectContaining({ actor: 'carol', action: 'apply' }),
      expect.objectContaining({ actor: 'carol', action: 'bulk' }),
    ]);
  });

  it('lets a site admin do everything in every namespace', async () => {
    expect(await statusOf(root, 'alice', 'hello-world')).toMatchObject({ ok: true });
    expect(await apply(root, 'bob', HELLO_AGAIN)).toMatchObject({
      ok: true,
      campaign: 'bob/hello-world',
      unchanged: false,
    });
    expect(await as(root, 'get', { namespace: 'acme', campaign: 'hello-world' })).toMatchObject({
      ok: true,
    });
    expect(await apply(root, 'default')).toMatchObject({ ok: true, campaign: 'hello-world' });
    expect(await as<WhoamiResult>(root, 'whoami')).toMatchObject({
      namespaces: ['root', 'default'],
    });
    // allNamespaces is every namespace's, for a site admin; it does not go with a namespace.
    const listed = async () => {
      const all = await as<ListResult>(root, 'list', { allNamespaces: true });
      return all.ok ? all.campaigns.map((c) => c.campaign) : [];
    };
    expect(await eventually(async () => (await listed()).includes('hello-world'))).toBe(true);
    expect(await listed()).toEqual([
      'acme/hello-world',
      'alice/hello-world',
      'bob/hello-world',
      'hello-world',
      'oss/hello-world',
    ]);
    expect(await as(root, 'list', { allNamespaces: true, namespace: 'bob' })).toEqual({
      ok: false,
      error: {
        code: 'invalid-request',
        message: '"allNamespaces" lists every namespace; ask for it or a "namespace"',
      },
    });
  });

  it('reads campaigns recorded before namespaces into the default namespace, which only site admins use', async () => {
    // Given a campaign recorded as before namespaces: its stream and events name it bare.
    await store.append(
      campaignStream('legacy'),
      [
        {
          event_id: newEventId(),
          type: 'SpecApplied',
          data: {
            campaign: 'legacy',
            applyId: '0b5d5b9e-5c1a-4d8a-8c55-4f7d2c1e9a01',
            specHash: 'a'.repeat(64),
            specText: HELLO.replace('hello-world', 'legacy'),
            fileName: 'legacy.campaign.yaml',
            actor: 'someone',
          },
        },
      ],
      {
        expected: 'no_stream',
        metadata: {
          correlation_id: '0b5d5b9e-5c1a-4d8a-8c55-4f7d2c1e9a01',
          causation_id: null,
          actor: 'someone',
          source: 'spec-service',
        },
      },
    );
    // Then it is the default namespace's campaign "legacy".
    expect(await statusOf(root, 'default', 'legacy')).toMatchObject({
      ok: true,
      campaign: 'legacy',
      applyId: '0b5d5b9e-5c1a-4d8a-8c55-4f7d2c1e9a01',
    });
    // (and the campaign root applied in default before is there too)
    expect(await statusOf(root, 'default', 'hello-world')).toMatchObject({ ok: true });
    // A site admin's request that names no namespace acts in default.
    expect(await as(root, 'get', { campaign: 'legacy' })).toMatchObject({ ok: true });
    const list = await as<ListResult>(root, 'list');
    expect(list.ok && list.campaigns.map((c) => c.campaign)).toEqual(['hello-world', 'legacy']);
    expect(await as(alice, 'get', { namespace: 'default', campaign: 'legacy' })).toMatchObject({
      ok: false,
      error: {
        code: 'forbidden',
        message:
          'forbidden: alice may not read in namespace default (the default namespace belongs to the site admins)',
      },
    });
  });
});
