import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiSubject, isSealed, REPLY_KEY_HEADER } from '@campaigns/contracts';
import { campaignsCatalogue, PostgresEventStore, type EventsTopology } from '@campaigns/events';
import {
  createTestDatabase,
  eventually,
  PrivateNatsServer,
  uniqueTopology,
  type TestDatabase,
} from '@campaigns/events/testing';
import { bearerHeaders, FixedResolver, startSpecService } from '@campaigns/spec-service/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { runCli } from './cli.js';
import type { CliIo } from './command.js';

const NATS_CONF = fileURLToPath(new URL('../../../deploy/nats/nats.conf', import.meta.url));
const SERVICES_PASSWORD = 'services-test-password';
const CLI_PASSWORD = 'cli-test-password';

const SPEC = `name: closed-broker
steps:
  - run: echo hi
    container: alpine:3
changesetTemplate:
  title: Hi
  branch: hi
  commit:
    message: Hi
`;

describe('identity over a closed NATS (deploy/nats/nats.conf): the CLI user reaches only the API', () => {
  let server: PrivateNatsServer;
  let services: NatsConnection;
  let db: TestDatabase;
  let topology: EventsTopology;
  let service: Awaited<ReturnType<typeof startSpecService>>;
  let home: string;

  beforeAll(async () => {
    server = await PrivateNatsServer.start({
      file: NATS_CONF,
      env: {
        CAMPAIGNS_NATS_SERVICES_PASSWORD: SERVICES_PASSWORD,
        CAMPAIGNS_NATS_CLI_PASSWORD: CLI_PASSWORD,
      },
      user: 'services',
      pass: SERVICES_PASSWORD,
    });
    services = await connect({ servers: server.url, user: 'services', pass: SERVICES_PASSWORD });
    db = await createTestDatabase('cli_identity_int');
    topology = uniqueTopology();
    const store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    service = await startSpecService({
      store,
      nats: services,
      topology,
      resolver: new FixedResolver(),
    });
    home = mkdtempSync(join(tmpdir(), 'campaign-identity-'));
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await services?.close();
    await server?.destroy();
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  /** The CLI as the `cli` NATS user, with its config under the test's own XDG_CONFIG_HOME. */
  async function campaign(
    argv: string[],
    env: Record<string, string> = {},
    stdin?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {
        NATS_URL: server.url,
        NATS_USER: 'cli',
        NATS_PASSWORD: CLI_PASSWORD,
        EVENTS_STREAM: topology.streamName,
        EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
        XDG_CONFIG_HOME: home,
        DATABASE_URL: db.url,
        ...env,
      },
      ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    };
    const code = await runCli(argv, io);
    return { code, stdout, stderr };
  }

  it('bootstraps an admin on the database, who manages users and tokens; login, whoami, revoke and logout work through the API alone', async () => {
    const bootstrap = await campaign(['admin', 'bootstrap', 'root']);
    expect(bootstrap.code).toBe(0);
    const root = bootstrap.stdout.trim();
    expect(root).toMatch(/^cmp_[A-Za-z0-9_-]{43}$/);
    expect(bootstrap.stderr).toMatch(/^root is a site admin; token \d+ \(shown this once\):\n$/);
    const asRoot = { CAMPAIGN_TOKEN: root };

    expect(await campaign(['whoami'], asRoot)).toEqual({
      code: 0,
      stdout: 'User:        root\nSite admin:  yes\nNamespaces:  root, default\n',
      stderr: '',
    });
    expect(await campaign(['admin', 'users', 'create', 'carol'], asRoot)).toMatchObject({
      code: 0,
      stdout: 'Created user carol; give them a token: campaign admin tokens create carol\n',
    });
    const issued = await campaign(['admin', 'tokens', 'create', 'carol'], asRoot);
    expect(issued.code).toBe(0);
    const carol = issued.stdout.trim();
    expect(carol).toMatch(/^cmp_/);

    // carol logs in: the token is checked, then saved for her alone.
    const login = await campaign(['login'], {}, `${carol}\n`);
    expect(login).toEqual({
      code: 0,
      stdout: `Logged in as carol; the token is saved in ${join(home, 'campaign', 'config.json')}\n`,
      stderr: '',
    });
    const saved = join(home, 'campaign', 'config.json');
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual({ token: carol });
    expect((await campaign(['whoami', '--json'])).stdout).toBe(
      `${JSON.stringify({ user: 'carol', siteAdmin: false, namespaces: ['carol'] }, null, 2)}\n`,
    );

    const notAdmin = await campaign(['admin', 'users', 'list']);
    expect(notAdmin).toEqual({
      code: 4,
      stdout: '',
      stderr: 'campaign admin: not allowed: only site admins may list users; carol is not one\n',
    });

    // Revoked: her next command is refused, with nothing but a way out.
    expect(await campaign(['admin', 'tokens', 'revoke', 'carol'], asRoot)).toMatchObject({
      code: 0,
      stdout: 'Revoked 1 token\n',
    });
    const revoked = await campaign(['apply', '-f', '-'], {}, SPEC);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr).toMatch(
      /^campaign apply: not authenticated: the access token is unknown or revoked/,
    );
    const events = await db.pool.query(`SELECT 1 FROM eventstore.events`);
    expect(events.rows).toEqual([]);

    // A token that is not accepted is never saved.
    rmSync(saved);
    const refused = await campaign(['login'], {}, `${carol}\n`);
    expect(refused.code).toBe(4);
    expect(() => statSync(saved)).toThrow();

    expect(await campaign(['logout'])).toEqual({
      code: 0,
      stdout: `Not logged in: there was no ${saved}\n`,
      stderr: '',
    });
    expect(await campaign(['whoami'])).toEqual({
      code: 4,
      stdout: '',
      stderr:
        'campaign whoami: not authenticated: no access token was sent; set CAMPAIGN_TOKEN or run "campaign login"\n',
    });
    for (const output of [bootstrap, login, notAdmin, revoked, refused].map((r) => r.stderr))
      expect(output).not.toContain('cmp_');
  });

  it('the cli NATS user cannot subscribe to the event or job subjects, nor use the JetStream API', async () => {
    // The positive signal: an apply by the CLI is relayed to the event stream, where the
    // services user sees it.
    const bootstrap = await campaign(['admin', 'bootstrap', 'applier']);
    const applied = await campaign(
      ['apply', '-f', '-'],
      { CAMPAIGN_TOKEN: bootstrap.stdout.trim() },
      SPEC,
    );
    expect(applied.code).toBe(0);
    const jsm = await jetstreamManager(services);
    expect(
      await eventually(
        async () => (await jsm.streams.info(topology.streamName)).state.messages > 0,
        15_000,
      ),
    ).toBe(true);

    const cli = await connect({ servers: server.url, user: 'cli', pass: CLI_PASSWORD });
    try {
      for (const subject of [
        `${topology.subjectPrefix}.>`,
        '>',
        `jobs.${topology.subjectPrefix}.>`,
      ]) {
        const subscription = cli.subscribe(subject);
        const closedWith = await subscription.closed;
        expect(closedWith).toBeInstanceOf(PermissionViolationError);
      }
      await expect(
        cli.request(`$JS.API.STREAM.INFO.${topology.streamName}`, '', { timeout: 5000 }),
      ).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.INFO/);
      await expect(jetstreamManager(cli, { timeout: 5000 })).rejects.toThrow(
        /Permissions Violation/,
      );
      // What it may do still works on the same connection: an API request.
      const reply = await cli.request(apiSubject(topology, 'whoami'), '{}', {
        timeout: 10_000,
        headers: bearerHeaders(bootstrap.stdout.trim()),
      });
      expect(reply.json()).toEqual({
        ok: true,
        user: 'applier',
        siteAdmin: true,
        namespaces: ['applier', 'default'],
      });
    } finally {
      await cli.close();
    }
  });

  it("another holder of the cli user, listening on _INBOX.>, sees the replies only sealed and none of the services' deliveries", async () => {
    const eavesdropper = await connect({ servers: server.url, user: 'cli', pass: CLI_PASSWORD });
    try {
      const seen: Uint8Array[] = [];
      eavesdropper.subscribe('_INBOX.>', {
        callback: (_error, msg) => {
          seen.push(msg.data);
        },
      });
      await eavesdropper.flush();

      const root = (await campaign(['admin', 'bootstrap', 'overheard-admin'])).stdout.trim();
      const asRoot = { CAMPAIGN_TOKEN: root };
      expect((await campaign(['admin', 'users', 'create', 'erin'], asRoot)).code).toBe(0);
      const issued = await campaign(['admin', 'tokens', 'create', 'erin'], asRoot);
      expect(issued.code).toBe(0);
      const erin = issued.stdout.trim();
      // A streamed answer crosses the import too (the export's response type is a stream).
      const preview = await campaign(['preview', '-f', '-'], { CAMPAIGN_TOKEN: erin }, SPEC);
      expect(preview.code).toBe(0);
      expect(preview.stdout).toContain('closed-broker');
      expect((await campaign(['apply', '-f', '-'], { CAMPAIGN_TOKEN: erin }, SPEC)).code).toBe(0);

      // The services read the event stream: JetStream delivers to an inbox of the services' account.
      const consumer = await jetstream(services).consumers.get(topology.streamName);
      const delivered = await consumer.next({ expires: 10_000 });
      expect(delivered?.json<{ type?: string }>()).toBeDefined();
      await consumer.delete();

      // The positive signal: the eavesdropper did get the four commands' replies ...
      expect(await eventually(async () => seen.length >= 4, 10_000)).toBe(true);
      await eavesdropper.flush();
      // ... every one of them sealed (or an empty end marker), and nothing of the event stream.
      for (const data of seen) expect(data.length === 0 || isSealed(data)).toBe(true);
      const overheard = Buffer.concat(seen);
      for (const secret of [erin, 'cmp_', 'erin', 'closed-broker', 'SpecApplied'])
        expect(overheard.includes(Buffer.from(secret))).toBe(false);
    } finally {
      await eavesdropper.close();
    }
  });

  it('refuses a reply key that is not one before acting, and answers a request without one in the clear', async () => {
    const token = (await campaign(['admin', 'bootstrap', 'raw-requester'])).stdout.trim();
    const cli = await connect({ servers: server.url, user: 'cli', pass: CLI_PASSWORD });
    try {
      // What an apply records at once (the process manager records more in the background).
      const applies = `SELECT count(*)::int AS n FROM eventstore.events WHERE type = 'SpecApplied'`;
      const before = await db.pool.query(applies);
      const badKey = bearerHeaders(token);
      badKey.set(REPLY_KEY_HEADER, Buffer.alloc(32).toString('base64url'));
      const refused = await cli.request(
        apiSubject(topology, 'apply'),
        JSON.stringify({ spec: SPEC.replace('closed-broker', 'never-applied') }),
        { timeout: 10_000, headers: badKey },
      );
      expect(refused.json()).toEqual({
        ok: false,
        error: {
          code: 'invalid-request',
          message: `the ${REPLY_KEY_HEADER} header is not an X25519 public key (43 base64url characters)`,
        },
      });
      // The refusal is the positive signal: an apply would have been recorded before its answer.
      expect((await db.pool.query(applies)).rows).toEqual(before.rows);
      const named = await db.pool.query(
        `SELECT 1 FROM eventstore.events WHERE stream_id LIKE '%never-applied%'`,
      );
      expect(named.rows).toEqual([]);

      // `nats req` sends no key: it gets its answer in the clear, as before sealing existed.
      const plain = await cli.request(apiSubject(topology, 'whoami'), '{}', {
        timeout: 10_000,
        headers: bearerHeaders(token),
      });
      expect(plain.json()).toMatchObject({ ok: true, user: 'raw-requester' });
    } finally {
      await cli.close();
    }
  });

  it("bootstrap keeps an existing admin, but takes no name that differs only in case or is an organization's", async () => {
    const first = await campaign(['admin', 'bootstrap', 'operator']);
    expect(first.code).toBe(0);
    // Again: the same user, one more token.
    const again = await campaign(['admin', 'bootstrap', 'operator']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).not.toBe(first.stdout.trim());
    const asOperator = { CAMPAIGN_TOKEN: again.stdout.trim() };
    expect((await campaign(['admin', 'orgs', 'create', 'acme'], asOperator)).code).toBe(0);
    const users = async () =>
      (await db.pool.query(`SELECT name FROM spec_service.users ORDER BY name`)).rows;
    const before = await users();

    expect(await campaign(['admin', 'bootstrap', 'Operator'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'campaign: user "operator" exists already (names are the same in any letter case)\n',
    });
    expect(await campaign(['admin', 'bootstrap', 'ACME'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'campaign: the namespace "ACME" exists already (an organization\'s or the site\'s)\n',
    });
    expect(await users()).toEqual(before);
  });

  it('refuses a wrong NATS password or no user, and the CLI says so in one line without the password', async () => {
    const wrong = await campaign(['list'], { NATS_PASSWORD: 'not-the-password' });
    expect(wrong).toEqual({
      code: 4,
      stdout: '',
      stderr: `campaign: NATS at ${server.url} refused the connection: check NATS_USER and NATS_PASSWORD\n`,
    });
    const anonymous = await campaign(['list'], { NATS_USER: '', NATS_PASSWORD: '' });
    expect(anonymous.code).toBe(4);
    await expect(
      connect({ servers: server.url, user: 'cli', pass: 'not-the-password', reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/);
  });
});
