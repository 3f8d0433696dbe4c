import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { accessTokenOf, configFileOf, removeSavedToken, saveAccessToken } from './credentials.js';
import { CliFailure } from './spec-service-client.js';

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
    expect(await removeSavedToken(env)).toBe(true);
    expect(await removeSavedToken(env)).toBe(false);
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
