import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignsCatalogue,
  EventRelay,
  PostgresEventStore,
  type EventsTopology,
} from '@campaigns/events';
import {
  connectTestNats,
  createTestDatabase,
  deleteStream,
  eventually,
  TEST_NATS_CLI_URL,
  uniqueTopology,
  type TestDatabase,
} from '@campaigns/events/testing';
import {
  FixedResolver,
  helloWorldSpec,
  issueTestToken,
  startSpecService,
} from '@campaigns/spec-service/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { runCli } from './cli.js';
import type { CliIo } from './command.js';

const HELLO = helloWorldSpec();

describe('campaign -n/--namespace: each user’s campaigns, and the organizations they belong to', () => {
  let db: TestDatabase;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let relay: EventRelay;
  let service: Awaited<ReturnType<typeof startSpecService>>;
  let dir: string;
  let specFile: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase('cli_namespaces_int');
    nats = await connectTestNats();
    topology = uniqueTopology();
    const store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    service = await startSpecService({ store, nats, topology, resolver: new FixedResolver() });
    tokens['root'] = await issueTestToken(db.pool, 'root', { siteAdmin: true });
    for (const user of ['alice', 'bob']) tokens[user] = await issueTestToken(db.pool, user);
    dir = mkdtempSync(join(tmpdir(), 'campaign-namespaces-'));
    specFile = join(dir, 'hello-world.campaign.yaml');
    writeFileSync(specFile, HELLO);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await relay?.stop();
    await deleteStream(nats, topology);
    await nats?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `campaign ARGV` as USER (their token), in process. */
  async function campaign(user: string, ...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {
        NATS_URL: TEST_NATS_CLI_URL,
        EVENTS_STREAM: topology.streamName,
        EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
        CAMPAIGN_TOKEN: tokens[user]!,
        DATABASE_URL: db.url,
      },
    };
    const code = await runCli(argv, io);
    return { code, stdout, stderr };
  }
  /** `campaign status` once the campaign's status is there (the positive signal of a read). */
  async function statusOf(user: string, ...argv: string[]) {
    let result = await campaign(user, 'status', ...argv);
    await eventually(async () => {
      result = await campaign(user, 'status', ...argv);
      return !result.stderr.includes('no campaign named');
    });
    return result;
  }

  it('applies two users’ hello-world side by side; status and list show each their own', async () => {
    const alice = await campaign('alice', 'apply', '-f', specFile);
    const bob = await campaign('bob', 'apply', '-f', specFile);
    expect(alice).toMatchObject({ code: 0, stderr: '' });
    expect(alice.stdout).toMatch(/^Applied campaign alice\/hello-world \(apply [0-9a-f-]{36}\)\n$/);
    expect(bob.stdout).toMatch(/^Applied campaign bob\/hello-world \(apply /);
    const aliceApply = /apply ([0-9a-f-]{36})/.exec(alice.stdout)![1]!;

    const status = await statusOf('alice', 'hello-world', '-o', 'json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      campaign: 'alice/hello-world',
      applyId: aliceApply,
    });
    expect((await statusOf('bob', 'hello-world')).code).toBe(0);
    const list = await campaign('bob', 'list', '-o', 'json');
    const { campaigns } = JSON.parse(list.stdout) as { campaigns: { campaign: string }[] };
    expect(campaigns.map((c) => c.campaign)).toEqual(['bob/hello-world']);
  });

  it('refuses bob in alice’s namespace in one line, and lets a site admin in', async () => {
    expect((await statusOf('alice', 'hello-world')).code).toBe(0);
    const refused = await campaign('bob', 'status', 'hello-world', '-n', 'alice');
    expect(refused.code).toBe(4);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^campaign status: forbidden: bob may not read in namespace alice \(namespace alice is another user's\)\n$/,
    );
    const apply = await campaign('bob', 'apply', '--namespace', 'alice', '-f', specFile);
    expect(apply.stderr).toMatch(
      /^campaign apply: forbidden: bob may not apply in namespace alice/,
    );
    const preview = await campaign('bob', 'preview', '-n', 'alice', '-f', specFile);
    expect(preview).toMatchObject({ code: 4, stdout: '' });
    expect(preview.stderr).toMatch(
      /^campaign preview: forbidden: bob may not preview in namespace alice/,
    );
    const close = await campaign('bob', 'close', 'alice/hello-world', '--close-changesets');
    expect(close).toMatchObject({ code: 4, stdout: '' });
    expect(close.stderr).toMatch(
      /^campaign close: forbidden: bob may not close in namespace alice/,
    );

    expect(await statusOf('root', 'alice/hello-world')).toMatchObject({ code: 0 });
    // The refusals are in the event log, which audit reads.
    const { rows } = await db.pool.query<{ data: { actor: string; action: string } }>(
      `SELECT data FROM eventstore.events WHERE stream_id = 'security-alice' ORDER BY global_position`,
    );
    expect(rows.map((r) => [r.data.actor, r.data.action])).toEqual([
      ['bob', 'read'],
      ['bob', 'apply'],
      ['bob', 'preview'],
      ['bob', 'close'],
    ]);
    const audit = await campaign('alice', 'audit', 'hello-world', '-n', 'alice');
    expect(audit.stdout).toContain(
      "refused: bob may not read in namespace alice (namespace alice is another user's)",
    );
    expect(audit.stdout).toContain('refused: bob may not apply in namespace alice');
  });

  it('lets a site admin make an organization whose members apply in it, and reads its history with audit -n', async () => {
    // Not a site admin: exit 4 (not authenticated, or not allowed).
    expect(await campaign('alice', 'admin', 'orgs', 'create', 'acme')).toMatchObject({
      code: 4,
      stdout: '',
    });
    expect(await campaign('root', 'admin', 'orgs', 'create', 'acme')).toEqual({
      code: 0,
      stdout:
        'Created private organization acme; add members: campaign admin orgs add-member acme USER\n',
      stderr: '',
    });
    expect(await campaign('root', 'admin', 'orgs', 'add-member', 'acme', 'alice')).toEqual({
      code: 0,
      stdout: 'alice is now a member of acme\n',
      stderr: '',
    });
    expect((await campaign('alice', 'whoami')).stdout).toContain('Namespaces:  alice, acme\n');

    const applied = await campaign('alice', 'apply', '-n', 'acme', '-f', specFile);
    expect(applied.stdout).toMatch(/^Applied campaign acme\/hello-world /);
    expect((await statusOf('alice', 'hello-world', '-n', 'acme')).code).toBe(0);
    expect((await campaign('bob', 'list', '-n', 'acme')).stderr).toMatch(
      /^campaign list: forbidden: bob may not read in namespace acme/,
    );

    const audit = await campaign('alice', 'audit', 'hello-world', '-n', 'acme', '-o', 'json');
    expect(audit.code).toBe(0);
    const events = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; actor?: string });
    expect(events[0]).toMatchObject({ type: 'SpecApplied' });
    expect(JSON.stringify(events)).toContain('alice');
  });
  it("list -A shows every namespace one may read: all for a site admin, a public organization for anyone, never another user's", async () => {
    expect((await campaign('root', 'admin', 'orgs', 'create', 'opensource', '--public')).code).toBe(
      0,
    );
    expect((await campaign('root', 'apply', '-n', 'opensource', '-f', specFile)).code).toBe(0);
    expect((await campaign('root', 'apply', '-f', specFile)).stdout).toMatch(
      /^Applied campaign hello-world /,
    );
    const listed = async (user: string, ...argv: string[]) => {
      const r = await campaign(user, 'list', ...argv, '-o', 'json');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return (JSON.parse(r.stdout) as { campaigns: { campaign: string }[] }).campaigns.map(
        (c) => c.campaign,
      );
    };
    // The positive signal: everything applied so far is listed for the site admin.
    expect(await eventually(async () => (await listed('root', '-A')).length === 5)).toBe(true);
    expect(await listed('root', '-A')).toEqual([
      'acme/hello-world',
      'alice/hello-world',
      'bob/hello-world',
      'hello-world',
      'opensource/hello-world',
    ]);
    // alice: her own, her private organization's and the public one's; not bob's, not default's.
    expect(await listed('alice', '--all-namespaces')).toEqual([
      'acme/hello-world',
      'alice/hello-world',
      'opensource/hello-world',
    ]);
    expect(await listed('bob', '-A')).toEqual(['bob/hello-world', 'opensource/hello-world']);
    // -A wins over -n (as kubectl's does), so it never widens into a refusal.
    expect(await listed('bob', '-A', '-n', 'alice')).toEqual([
      'bob/hello-world',
      'opensource/hello-world',
    ]);
    // Reading all one may read is refused nowhere, so nothing new is in the security streams.
    const { rows } = await db.pool.query(
      `SELECT 1 FROM eventstore.events WHERE stream_id LIKE 'security-%' AND data->>'actor' <> 'bob'`,
    );
    expect(rows).toEqual([]);
  });
});
