import { describe, expect, it } from '@jest/globals';
import { availableParallelism } from 'node:os';
import {
  defaultConcurrency,
  loadExecutorSettings,
  stepSecretsFromEnv,
} from '../executor-settings.js';
import { Redactor } from './redact.js';
import { canonicalJson } from '@campaigns/events';
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

describe('Redactor', () => {
  const redactor = new Redactor(['s3cr3t-value', 's3cr3t-value-longer', 'abc']);

  it('replaces every occurrence, longest secret first, in text and nested values', () => {
    expect(redactor.text('a s3cr3t-value-longer b s3cr3t-value')).toBe('a [redacted] b [redacted]');
    expect(redactor.value({ list: ['x s3cr3t-value'], n: 1, s3cr3t_value: null })).toEqual({
      list: ['x [redacted]'],
      n: 1,
      s3cr3t_value: null,
    });
    // Too short to redact without mangling innocent text.
    expect(redactor.text('abc')).toBe('abc');
    expect(redactor.occursIn(Buffer.from('+ s3cr3t-value\n'))).toBe(true);
    expect(redactor.occursIn(Buffer.from('+ nothing\n'))).toBe(false);
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
      stepSecretsFromEnv(['GITHUB_TOKEN', 'UNSET'], { GITHUB_TOKEN: 'x', DATABASE_URL: 'y' }),
    ).toEqual({ GITHUB_TOKEN: 'x' });
  });
});
