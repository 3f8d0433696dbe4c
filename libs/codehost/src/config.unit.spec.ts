import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { MIN_SECRET_LENGTH } from '@campaigns/events';
import { CodeHosts, secretValues } from './code-hosts.js';
import {
  codeHostConfigForCampaign,
  CodeHostResolver,
  ConfigError,
  loadCampaignsConfig,
  parseCampaignsConfig,
} from './config.js';

const CANARY = 'ghp_CANARY_0123456789abcdefCANARY';
const SECRET = 'whsec_CANARY_hook_secret';

const valid = `codeHosts:
  - id: github
    kind: github
    url: https://github.com
    apiUrl: https://api.github.com
    tokenEnv: GITHUB_TOKEN
    webhookSecretEnv: GITHUB_WEBHOOK_SECRET
  - id: ghes
    kind: github
    url: http://127.0.0.1:3001
    apiUrl: http://127.0.0.1:3001/api/v3
    tokenEnv: GHES_TOKEN
`;
const env = { GITHUB_TOKEN: CANARY, GITHUB_WEBHOOK_SECRET: SECRET, GHES_TOKEN: 'ghes-token' };

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseCampaignsConfig', () => {
  it('reads code hosts with tokens from the named environment variables and derives hosts and GraphQL URLs', () => {
    const config = parseCampaignsConfig(valid, 'campaigns.config.yaml', env);
    expect(config.codeHosts.map((h) => [h.id, h.host, h.graphqlUrl])).toEqual([
      ['github', 'github.com', 'https://api.github.com/graphql'],
      ['ghes', '127.0.0.1:3001', 'http://127.0.0.1:3001/api/graphql'],
    ]);
    expect(config.codeHosts[0]!.token.reveal()).toBe(CANARY);
    expect(config.codeHosts[0]!.webhookSecret?.reveal()).toBe(SECRET);
  });

  it('reads the fork default and its namespace; without them a host pushes to the repository itself', () => {
    const forking = valid.replace(
      '    webhookSecretEnv: GITHUB_WEBHOOK_SECRET\n',
      '    webhookSecretEnv: GITHUB_WEBHOOK_SECRET\n    fork: true\n    forkNamespace: campaigns-forks\n',
    );
    const config = parseCampaignsConfig(forking, 'campaigns.config.yaml', env);
    expect(config.codeHosts.map((h) => [h.id, h.fork, h.forkNamespace])).toEqual([
      ['github', true, 'campaigns-forks'],
      ['ghes', false, undefined],
    ]);
    const error = configErrorOf(() =>
      parseCampaignsConfig(
        valid.replace(
          '    tokenEnv: GHES_TOKEN\n',
          '    tokenEnv: GHES_TOKEN\n    fork: yes\n    forkNamespace: a/b\n',
        ),
        'campaigns.config.yaml',
        env,
      ),
    );
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'codeHosts[1].fork',
        message: 'must be true or false',
        line: 13,
      }),
      expect.objectContaining({
        path: 'codeHosts[1].forkNamespace',
        message: 'must be an organization or user login',
        line: 14,
      }),
    ]);
  });

  it('resolves host-qualified repository names to their code host, and names the configured hosts otherwise', () => {
    const resolver = new CodeHostResolver(parseCampaignsConfig(valid, 'c.yaml', env));
    expect(resolver.resolve('github.com/acme/api').id).toBe('github');
    expect(resolver.resolve('127.0.0.1:3001/acme/repo-00001').id).toBe('ghes');
    expect(() => resolver.resolve('gitlab.com/acme/api')).toThrow(
      'no code host is configured for gitlab.com/acme/api (configured hosts: github.com, 127.0.0.1:3001)',
    );
    expect(() => resolver.resolve('acme/api')).toThrow('expected HOST/OWNER/NAME');
  });

  it('gives a namespace’s campaigns its own token where configured, and everything else the site-wide one', () => {
    const NS_TOKEN = 'ghp_ACME_NAMESPACE_0123456789abcdef';
    const text = valid.replace(
      '    tokenEnv: GITHUB_TOKEN\n',
      '    tokenEnv: GITHUB_TOKEN\n    namespaces:\n      acme:\n        tokenEnv: ACME_GITHUB_TOKEN\n',
    );
    const config = parseCampaignsConfig(text, 'c.yaml', { ...env, ACME_GITHUB_TOKEN: NS_TOKEN });
    const github = config.codeHosts[0]!;
    expect(codeHostConfigForCampaign(github, 'acme/hello-world').token.reveal()).toBe(NS_TOKEN);
    expect(codeHostConfigForCampaign(github, 'acme/hello-world').tokenEnv).toBe(
      'ACME_GITHUB_TOKEN',
    );
    for (const campaign of ['bob/hello-world', 'hello-world'])
      expect(codeHostConfigForCampaign(github, campaign).token.reveal()).toBe(CANARY);
    const resolver = new CodeHostResolver(config);
    expect(resolver.resolve('github.com/o/r', 'acme/x').token.reveal()).toBe(NS_TOKEN);
    expect(resolver.resolve('github.com/o/r').token.reveal()).toBe(CANARY);
    // The namespace's adapter is its own (its own rate-limit budget), made once.
    const hosts = new CodeHosts(config);
    const site = hosts.forRepository('github.com/o/r');
    expect(hosts.forRepository('github.com/o/r', 'bob/x')).toBe(site);
    const acme = hosts.forRepository('github.com/o/r', 'acme/x');
    expect(acme).not.toBe(site);
    expect(hosts.forRepository('github.com/o/r', 'acme/y')).toBe(acme);
    // A namespace token is a secret like any other: refused by the store, redacted in logs.
    expect(secretValues(config)).toContain(NS_TOKEN);
    expect(inspect(config)).not.toContain(NS_TOKEN);
  });

  it('refuses a namespace token whose variable is unset, by its path, and a namespace that is no name', () => {
    const text = valid.replace(
      '    tokenEnv: GITHUB_TOKEN\n',
      '    tokenEnv: GITHUB_TOKEN\n    namespaces:\n      acme:\n        tokenEnv: ACME_GITHUB_TOKEN\n      "a/b":\n        tokenEnv: AB_TOKEN\n',
    );
    const error = configErrorOf(() => parseCampaignsConfig(text, 'c.yaml', env));
    expect(error.message).toMatch(
      /c\.yaml:\d+:\d+: codeHosts\[0\]\.namespaces\.a\/b: must be a namespace/,
    );
    const unset = configErrorOf(() =>
      parseCampaignsConfig(
        text.replace(/ {6}"a\/b":\n {8}tokenEnv: AB_TOKEN\n/, ''),
        'c.yaml',
        env,
      ),
    );
    expect(unset.message).toMatch(
      /codeHosts\[0\]\.namespaces\.acme\.tokenEnv: .*ACME_GITHUB_TOKEN/,
    );
  });

  it('points at the line and column of every invalid field, unknown field and unset variable at once', () => {
    const text = `codeHosts:
  - id: github
    kind: gitlab
    url: not a url
    apiUrl: https://api.github.com
    tokenEnv: NOT_SET_ANYWHERE
    tokn: x
`;
    const error = configErrorOf(() => parseCampaignsConfig(text, 'campaigns.config.yaml', {}));
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'codeHosts[0].kind', line: 3, col: 11 }),
        expect.objectContaining({ path: 'codeHosts[0].url', line: 4, col: 10 }),
        expect.objectContaining({ path: 'codeHosts[0].tokn', message: 'unknown field "tokn"' }),
      ]),
    );
    expect(error.message).toContain(
      'campaigns.config.yaml:3:11: codeHosts[0].kind: kind must be "github"',
    );
  });

  it('says which environment variable is missing and where it is named', () => {
    const error = configErrorOf(() =>
      parseCampaignsConfig(valid, 'campaigns.config.yaml', { GITHUB_WEBHOOK_SECRET: SECRET }),
    );
    expect(error.message).toContain(
      'campaigns.config.yaml:6:15: codeHosts[0].tokenEnv: environment variable GITHUB_TOKEN is not set',
    );
    expect(error.message).toContain(
      'campaigns.config.yaml:12:15: codeHosts[1].tokenEnv: environment variable GHES_TOKEN',
    );
  });

  it('given a token or webhook secret too short to be redacted, then it is refused by variable and field, never by value', () => {
    // Given values one character short of the policy's minimum.
    const shortToken = 'tok'.padEnd(MIN_SECRET_LENGTH - 1, '7');
    const shortHook = 'hook'.padEnd(MIN_SECRET_LENGTH - 1, '9');
    // When the config is read with them.
    const error = configErrorOf(() =>
      parseCampaignsConfig(valid, 'campaigns.config.yaml', {
        ...env,
        GHES_TOKEN: shortToken,
        GITHUB_WEBHOOK_SECRET: shortHook,
      }),
    );
    // Then each problem names its variable and where the config names it, and no value leaks.
    expect(error.message).toContain(
      `campaigns.config.yaml:7:23: codeHosts[0].webhookSecretEnv: environment variable GITHUB_WEBHOOK_SECRET is shorter than ${MIN_SECRET_LENGTH} characters`,
    );
    expect(error.message).toContain(
      `campaigns.config.yaml:12:15: codeHosts[1].tokenEnv: environment variable GHES_TOKEN is shorter than ${MIN_SECRET_LENGTH} characters`,
    );
    for (const text of [error.message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(shortToken);
      expect(text).not.toContain(shortHook);
      expect(text).not.toContain(CANARY);
    }
  });

  it('given compose secrets, then tokens are read from the files their _FILE variables name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-secret-'));
    try {
      await writeFile(join(dir, 'github_token'), `${CANARY}\n`);
      const config = parseCampaignsConfig(valid, 'campaigns.config.yaml', {
        GITHUB_TOKEN_FILE: join(dir, 'github_token'),
        GITHUB_WEBHOOK_SECRET: SECRET,
        GHES_TOKEN: 'ghes-token',
      });
      expect(config.codeHosts[0]!.token.reveal()).toBe(CANARY);
      const error = configErrorOf(() =>
        parseCampaignsConfig(valid, 'campaigns.config.yaml', {
          ...env,
          GITHUB_TOKEN: undefined,
          GITHUB_TOKEN_FILE: join(dir, 'missing'),
        }),
      );
      expect(error.message).toContain(
        `campaigns.config.yaml:6:15: codeHosts[0].tokenEnv: environment variable GITHUB_TOKEN_FILE names ${join(dir, 'missing')}, which cannot be read (ENOENT)`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports YAML syntax errors with their position', () => {
    const error = configErrorOf(() =>
      parseCampaignsConfig('codeHosts:\n  - id: [unclosed\n', 'c.yaml', env),
    );
    expect(error.problems[0]).toMatchObject({ line: expect.any(Number), col: expect.any(Number) });
    expect(error.message).toMatch(
      /^c\.yaml: invalid Campaigns configuration\n {2}c\.yaml:\d+:\d+: /,
    );
  });

  it('rejects two entries for the same host', () => {
    const text = `${valid}  - id: again
    kind: github
    url: https://github.com/
    apiUrl: https://api.github.com
    tokenEnv: GITHUB_TOKEN
`;
    expect(() => parseCampaignsConfig(text, 'c.yaml', env)).toThrow(
      'c.yaml:15:10: codeHosts[2].url: host github.com is already configured as "github"',
    );
  });
});

describe('rollout settings', () => {
  const withSettings = (lines: string) =>
    `${valid}${lines
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`;

  it('plans for GitHub’s content-creation limits and publishes at any time unless configured', () => {
    const config = parseCampaignsConfig(valid, 'c.yaml', env);
    expect(config.codeHosts[0]!.rollout).toEqual({
      windows: null,
      contentLimits: { perMinute: 80, perHour: 500 },
    });
  });

  it('reads rollout windows in Sourcegraph’s format, and content limits or false', () => {
    const config = parseCampaignsConfig(
      withSettings(`rolloutWindows:
  - rate: 10/hour
    days: [saturday, Sun]
    start: "06:00"
    end: "20:00"
  - rate: unlimited
contentLimits: false`),
      'c.yaml',
      env,
    );
    const { windows, contentLimits } = config.codeHosts[1]!.rollout;
    expect(contentLimits).toBeNull();
    expect(windows).toEqual([
      {
        rate: { unlimited: false, count: 10, perMs: 3_600_000 },
        days: new Set([6, 0]),
        startMinute: 360,
        endMinute: 1200,
      },
      { rate: { unlimited: true }, days: null, startMinute: null, endMinute: null },
    ]);
  });

  it('points at each invalid rollout field with a message that says what is allowed', () => {
    const error = configErrorOf(() =>
      parseCampaignsConfig(
        withSettings(`rolloutWindows:
  - rate: 10/fortnight
    days: [someday]
  - rate: 5/hour
    start: "20:00"
    end: "06:00"
contentLimits: { perMinute: 0, perHour: 500 }`),
        'c.yaml',
        env,
      ),
    );
    const text = error.message;
    expect(text).toMatch(
      /c\.yaml:\d+:\d+: codeHosts\[1\]\.rolloutWindows\[0\]\.rate: must be "unlimited"/,
    );
    expect(text).toMatch(/rolloutWindows\[0\]\.days\[0\]: must be a weekday/);
    expect(text).toMatch(/rolloutWindows\[1\]\.end: must be after start/);
    expect(text).toMatch(/contentLimits/);
  });
});

describe('loadCampaignsConfig', () => {
  it('reads the file named by CAMPAIGNS_CONFIG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'codehost-config-'));
    try {
      const file = join(dir, 'campaigns.config.yaml');
      await writeFile(file, valid);
      const config = await loadCampaignsConfig({ ...env, CAMPAIGNS_CONFIG: file });
      expect(config.codeHosts).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says the file is missing and how to point at another', async () => {
    await expect(
      loadCampaignsConfig({ CAMPAIGNS_CONFIG: '/nonexistent/campaigns.config.yaml' }),
    ).rejects.toThrow(
      "/nonexistent/campaigns.config.yaml: file not found (set CAMPAIGNS_CONFIG to the config file's path)",
    );
  });
});

describe('a canary token in the config', () => {
  it('never appears when the config is printed, inspected, serialised or fails to validate', () => {
    const config = parseCampaignsConfig(valid, 'c.yaml', env);
    const renderings = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.codeHosts[0]!.token),
      `${config.codeHosts[0]!.webhookSecret}`,
    ];
    const failing = configErrorOf(() =>
      parseCampaignsConfig(valid.replace('kind: github', 'kind: nope'), 'c.yaml', env),
    );
    renderings.push(failing.message, JSON.stringify(failing), inspect(failing));
    for (const text of renderings) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(SECRET);
    }
    expect(JSON.stringify(config)).toContain('"token":"[redacted]"');
  });
});
