import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WhoamiResult } from '@campaigns/contracts';
import { natsConnectTarget } from '@campaigns/events';
import { TEST_NATS_CLI_URL, uniqueTopology } from '@campaigns/events/testing';
import { saveNatsSettings } from './commands/credentials.js';
import { startFakeSpecService, type FakeSetup } from './test-support/fake-spec-service.js';
import { runCapturedIn } from './test-support/run-captured.js';

// npm start saves where its closed broker is (and the `cli` user's password) in the CLI's config
// file, so `campaign …` in another terminal needs no exports. Here: that entry alone gets the CLI
// through the shared test broker's CLIENTS account, and login and logout keep it.
describe('the broker the config file names', () => {
  const topology = uniqueTopology();
  const target = natsConnectTarget(TEST_NATS_CLI_URL);
  const saved = {
    url: target.servers.join(','),
    user: target.user ?? '',
    password: target.pass ?? '',
  };
  let setup: FakeSetup;
  let home: string;
  let file: string;

  beforeAll(async () => {
    setup = await startFakeSpecService(topology, 'campaign-saved-broker-');
    setup.fake.handlers.set('whoami', () => {
      const who: WhoamiResult = { user: 'carol', siteAdmin: false, namespaces: ['carol'] };
      return { ok: true, ...who };
    });
    home = mkdtempSync(join(tmpdir(), 'campaign-saved-broker-home-'));
    file = join(home, 'campaign', 'config.json');
  });

  afterAll(async () => {
    await setup?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** The CLI with no NATS settings in its environment: only the config file says where. */
  function campaign(argv: string[], stdin?: string) {
    const env = {
      XDG_CONFIG_HOME: home,
      EVENTS_STREAM: topology.streamName,
      EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
    };
    return runCapturedIn(env, argv, stdin);
  }

  it('is where login, whoami and logout go; login keeps it beside the token and logout keeps it alone', async () => {
    expect(saved.user).toBe('cli');
    await saveNatsSettings({ XDG_CONFIG_HOME: home }, saved);

    expect(await campaign(['login'], 'cmp_carol\n')).toEqual({
      code: 0,
      stdout: `Logged in as carol; the token is saved in ${file}\n`,
      stderr: '',
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: 'cmp_carol', nats: saved });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    expect((await campaign(['whoami'])).code).toBe(0);
    expect(setup.fake.authorizations.at(-1)).toBe('Bearer cmp_carol');

    expect(await campaign(['logout'])).toEqual({
      code: 0,
      stdout: `Logged out: removed the token from ${file} (where NATS is stays there)\n`,
      stderr: '',
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ nats: saved });
    // Still through the saved broker, now without a token.
    const requests = setup.fake.requests.length;
    expect((await campaign(['whoami'])).code).toBe(0);
    expect(setup.fake.requests.length).toBe(requests + 1);
    expect(setup.fake.authorizations.at(-1)).toBeUndefined();
    expect((await campaign(['logout'])).stdout).toBe(`Not logged in: ${file} holds no token\n`);
  });

  it('carries the password the broker checks: a stale one is refused in one line, without it', async () => {
    await saveNatsSettings({ XDG_CONFIG_HOME: home }, { ...saved, password: 'stale-password-x' });
    expect(await campaign(['whoami'])).toEqual({
      code: 4,
      stdout: '',
      stderr: `campaign: NATS at ${saved.url} refused the connection: check NATS_USER and NATS_PASSWORD\n`,
    });
  });
});
