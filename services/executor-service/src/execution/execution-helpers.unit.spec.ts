import { describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import {
  defaultConcurrency,
  loadExecutorSettings,
  stepSecretsFromEnv,
} from '../executor-settings.js';
import { canonicalJson, MIN_SECRET_LENGTH } from '@campaigns/events';
import { stepCacheKey, type StepCacheKeyInput } from './step-cache.js';

describe('stepCacheKey', () => {
  const input: StepCacheKeyInput = {
    repository: 'example.com/acme/api',
    baseRevision: 'a'.repeat(40),
    path: '',
    steps: [{ run: 'echo hi', container: 'alpine:3', env: { B: '2', A: '1' } }],
    secretNames: ['TOKEN_B', 'TOKEN_A'],
    templateData: { campaign: { name: 'x', description: '' } },
  };

  it('ignores the order of object keys and of secret names', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(
      stepCacheKey({
        ...input,
        steps: [{ env: { A: '1', B: '2' }, container: 'alpine:3', run: 'echo hi' }],
        secretNames: ['TOKEN_A', 'TOKEN_B'],
      }),
    ).toBe(stepCacheKey(input));
  });

  it('changes with every input', () => {
    const key = stepCacheKey(input);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const variants: Partial<StepCacheKeyInput>[] = [
      { repository: 'example.com/acme/web' },
      { baseRevision: 'b'.repeat(40) },
      { path: 'sub' },
      { steps: [{ run: 'echo ho', container: 'alpine:3', env: { B: '2', A: '1' } }] },
      { secretNames: ['TOKEN_A'] },
      { templateData: { campaign: { name: 'y', description: '' } } },
    ];
    for (const variant of variants) expect(stepCacheKey({ ...input, ...variant })).not.toBe(key);
  });
});

describe('loadExecutorSettings', () => {
  it('has defaults, reads every variable, and lists every invalid one at once', () => {
    expect(loadExecutorSettings({})).toMatchObject({
      ackWaitMs: 60_000,
      concurrency: 2 * availableParallelism(),
      stepSecretNames: [],
    });
    expect([1, 2, 64, 200].map((cpus) => defaultConcurrency(cpus))).toEqual([2, 4, 128, 256]);
    expect(
      loadExecutorSettings({
        EXECUTOR_ACK_WAIT_MS: '2000',
        EXECUTOR_CONCURRENCY: '3',
        EXECUTOR_CACHE_DIR: '/cache',
        EXECUTOR_STEP_SECRETS: 'GITHUB_TOKEN, NPM_TOKEN',
      }),
    ).toMatchObject({
      ackWaitMs: 2000,
      concurrency: 3,
      cacheDir: '/cache',
      stepSecretNames: ['GITHUB_TOKEN', 'NPM_TOKEN'],
    });
    expect(() =>
      loadExecutorSettings({ EXECUTOR_CONCURRENCY: '0', EXECUTOR_STEP_SECRETS: 'A-B' }),
    ).toThrow(
      'invalid executor configuration: EXECUTOR_CONCURRENCY must be an integer from 1 to 256, got "0"; EXECUTOR_STEP_SECRETS: "A-B" is not an environment variable name',
    );
  });

  it('gives steps only the listed variables that are set', () => {
    expect(
      stepSecretsFromEnv(['GITHUB_TOKEN', 'UNSET'], {
        GITHUB_TOKEN: 'ghp_step_secret_value',
        DATABASE_URL: 'postgres://db',
      }),
    ).toEqual({ GITHUB_TOKEN: 'ghp_step_secret_value' });
  });

  it('given a step secret too short to be redacted, then startup is refused by its name, never its value', () => {
    // Given two listed secrets whose values are one character short of the policy's minimum.
    const npm = 'n'.repeat(MIN_SECRET_LENGTH - 1);
    const pypi = 'p'.repeat(MIN_SECRET_LENGTH - 1);
    // When the executor reads them.
    let message = '';
    try {
      stepSecretsFromEnv(['NPM_TOKEN', 'PYPI_TOKEN', 'GITHUB_TOKEN'], {
        NPM_TOKEN: npm,
        PYPI_TOKEN: pypi,
        GITHUB_TOKEN: 'ghp_step_secret_value',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    // Then one error names both variables and neither value.
    expect(message).toBe(
      `invalid executor configuration: environment variable NPM_TOKEN (in EXECUTOR_STEP_SECRETS) is shorter than ${MIN_SECRET_LENGTH} characters, too short to be redacted without mangling ordinary text; use a longer secret; environment variable PYPI_TOKEN (in EXECUTOR_STEP_SECRETS) is shorter than ${MIN_SECRET_LENGTH} characters, too short to be redacted without mangling ordinary text; use a longer secret`,
    );
    expect(message).not.toContain(npm);
    expect(message).not.toContain(pypi);
  });
});
