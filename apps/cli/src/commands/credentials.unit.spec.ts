import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  accessTokenOf,
  configFileOf,
  removeSavedToken,
  saveAccessToken,
  saveNatsSettings,
  savedNatsOf,
} from './credentials.js';
import { CliFailure, clientSettings } from './spec-service-client.js';

describe('the CLI’s credential', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'campaign-credentials-'));
    env = { XDG_CONFIG_HOME: home };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('lives in $XDG_CONFIG_HOME/campaign/config.json, else under ~/.config', () => {
    expect(configFileOf(env)).toBe(join(home, 'campaign', 'config.json'));
    expect(configFileOf({ HOME: '/home/ada' })).toBe('/home/ada/.config/campaign/config.json');
  });

  it('is CAMPAIGN_TOKEN first, then the saved token, then none', async () => {
    expect(accessTokenOf(env)).toBeUndefined();
    await saveAccessToken(env, 'cmp_saved');
    expect(accessTokenOf(env)).toBe('cmp_saved');
    expect(accessTokenOf({ ...env, CAMPAIGN_TOKEN: ' cmp_env ' })).toBe('cmp_env');
    expect(accessTokenOf({ ...env, CAMPAIGN_TOKEN: '' })).toBe('cmp_saved');
  });

  it('is saved for its owner alone, even over an older file anyone could read, and removed on logout', async () => {
    const file = configFileOf(env);
    await saveAccessToken(env, 'cmp_first');
    chmodSync(file, 0o644);
    await saveAccessToken(env, 'cmp_second');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: 'cmp_second' });
    expect(await removeSavedToken(env)).toBe('removed-file');
    expect(await removeSavedToken(env)).toBe('no-file');
    expect(accessTokenOf(env)).toBeUndefined();
  });

  it('a config file without a token is one line saying to log in again, without its content', async () => {
    await saveAccessToken(env, 'cmp_x');
    writeFileSync(configFileOf(env), '{"token": 3, "secret": "cmp_leak"}');
    expect(() => accessTokenOf(env)).toThrow(
      new CliFailure(
        `${configFileOf(env)} holds no access token; run "campaign login" again (or set CAMPAIGN_TOKEN)`,
        2,
      ),
    );
  });
});

describe('where the CLI finds NATS', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const nats = { url: 'nats://127.0.0.1:4223', user: 'cli', password: 'cli-pw-from-npm-start' };
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'campaign-nats-settings-'));
    env = { XDG_CONFIG_HOME: home };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('is the environment’s, else the config file’s, else the local default', async () => {
    expect(clientSettings(env)).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      natsCredentials: {},
    });
    await saveNatsSettings(env, nats);
    expect(clientSettings(env)).toMatchObject({
      natsUrl: nats.url,
      natsCredentials: { user: 'cli', pass: nats.password },
    });
    // NATS_URL replaces the saved broker as a whole: its password never goes elsewhere.
    expect(clientSettings({ ...env, NATS_URL: 'nats://other:4222' })).toMatchObject({
      natsUrl: 'nats://other:4222',
      natsCredentials: {},
    });
    // A user and password in the environment win over the saved ones, on the saved broker.
    expect(
      clientSettings({ ...env, NATS_USER: 'someone', NATS_PASSWORD: 'someone-else-pw' }),
    ).toMatchObject({
      natsUrl: nats.url,
      natsCredentials: { user: 'someone', pass: 'someone-else-pw' },
    });
  });

  it('is kept beside the token, each written without losing the other, for its owner alone', async () => {
    const file = configFileOf(env);
    await saveAccessToken(env, 'cmp_first');
    await saveNatsSettings(env, nats);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: 'cmp_first', nats });
    chmodSync(file, 0o644);
    await saveAccessToken(env, 'cmp_second');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: 'cmp_second', nats });
    const moved = { ...nats, url: 'nats://127.0.0.1:4300' };
    await saveNatsSettings(env, moved);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: 'cmp_second', nats: moved });
  });

  it('stays when logging out: the token goes, the file keeps where NATS is', async () => {
    const file = configFileOf(env);
    await saveNatsSettings(env, nats);
    await saveAccessToken(env, 'cmp_token');
    expect(await removeSavedToken(env)).toBe('removed-token');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ nats });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(accessTokenOf(env)).toBeUndefined();
    expect(savedNatsOf(env)).toEqual(nats);
    expect(await removeSavedToken(env)).toBe('no-token');
  });

  it('refuses a malformed nats entry in one line, without the file’s content', async () => {
    await saveNatsSettings(env, nats);
    writeFileSync(configFileOf(env), JSON.stringify({ nats: { user: 'cli', password: 'leak' } }));
    const failure = new CliFailure(
      `${configFileOf(env)} has a "nats" entry that is not { "url", "user", "password" }; fix or remove it (or set NATS_URL)`,
      2,
    );
    expect(() => clientSettings(env)).toThrow(failure);
    // With NATS_URL set, the saved entry is not read at all.
    expect(clientSettings({ ...env, NATS_URL: 'nats://other:4222' }).natsUrl).toBe(
      'nats://other:4222',
    );
  });
});
