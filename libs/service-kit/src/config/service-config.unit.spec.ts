import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadServiceConfig } from './service-config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadServiceConfig(env, 3101);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadServiceConfig', () => {
  it('uses the documented defaults when nothing is set, with the service’s own default port', () => {
    expect(loadServiceConfig({}, 3103)).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/campaigns',
      natsUrl: 'nats://127.0.0.1:4222',
      natsCredentials: {},
      port: 3103,
      host: '127.0.0.1',
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      events: { streamName: 'EVENTS', subjectPrefix: 'ev' },
    });
  });

  it('takes every setting from the environment, and treats empty variables as unset', () => {
    const config = loadServiceConfig(
      {
        DATABASE_URL: 'postgresql://app:pw@db:5432/campaigns',
        NATS_URL: 'nats://n1:4222, nats://n2:4222',
        NATS_USER: 'services',
        NATS_PASSWORD: 'nats-services-pw',
        PORT: '0',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
        SHUTDOWN_TIMEOUT_MS: '',
        EVENTS_STREAM: 'EVENTS_STAGING',
        EVENTS_SUBJECT_PREFIX: 'stg',
      },
      3101,
    );
    expect(config).toEqual({
      databaseUrl: 'postgresql://app:pw@db:5432/campaigns',
      natsUrl: 'nats://n1:4222, nats://n2:4222',
      natsCredentials: { user: 'services', pass: 'nats-services-pw' },
      port: 0,
      host: '0.0.0.0',
      logLevel: 'debug',
      shutdownTimeoutMs: 10_000,
      events: { streamName: 'EVENTS_STAGING', subjectPrefix: 'stg' },
    });
  });

  it('reads the NATS password from NATS_PASSWORD_FILE (a compose secret), and refuses one too short to redact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nats-password-'));
    try {
      await writeFile(join(dir, 'pw'), 'from-a-secret-file\n');
      const config = loadServiceConfig(
        { NATS_USER: 'services', NATS_PASSWORD_FILE: join(dir, 'pw') },
        3101,
      );
      expect(config.natsCredentials).toEqual({ user: 'services', pass: 'from-a-secret-file' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(configError({ NATS_PASSWORD: 'pw' }).problems).toEqual([
      expect.stringMatching(/^environment variable NATS_PASSWORD is shorter than 8 characters/),
    ]);
  });

  it.each(['abc', '-1', '65536', '3.5', '80x'])(
    'refuses PORT=%s with a message naming the variable and the value',
    (port) => {
      expect(configError({ PORT: port }).problems).toEqual([
        `PORT must be an integer from 0 to 65535, got "${port}"`,
      ]);
    },
  );

  it('refuses a stream name or subject prefix NATS would not accept', () => {
    expect(configError({ EVENTS_STREAM: 'EV.X', EVENTS_SUBJECT_PREFIX: 'a b' }).problems).toEqual([
      'EVENTS_STREAM must be 1 to 64 letters, digits, _ or -, got "EV.X"',
      'EVENTS_SUBJECT_PREFIX must be 1 to 32 letters, digits, _ or -, got "a b"',
    ]);
  });

  it('reports every problem at once, so one restart fixes them all', () => {
    const error = configError({
      DATABASE_URL: 'mysql://root@db/campaigns',
      NATS_URL: 'http://n1:4222',
      LOG_LEVEL: 'loud',
      SHUTDOWN_TIMEOUT_MS: '0',
    });
    expect(error.problems).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL, got "mysql://root@db/campaigns"',
      'NATS_URL must be nats:// (or tls://, ws://, wss://) URLs separated by commas, got "http://n1:4222"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'SHUTDOWN_TIMEOUT_MS must be an integer from 1 to 2147483647, got "0"',
    ]);
    expect(error.message).toMatch(/^invalid configuration: DATABASE_URL must be/);
  });

  it('puts DATABASE_PASSWORD into DATABASE_URL, and reports a bad one among the problems', () => {
    const config = loadServiceConfig(
      { DATABASE_URL: 'postgres://app@db:5432/campaigns', DATABASE_PASSWORD: 'compose-secret-1' },
      3101,
    );
    expect(config.databaseUrl).toBe('postgres://app:compose-secret-1@db:5432/campaigns');
    const error = configError({ DATABASE_PASSWORD_FILE: '/nonexistent/postgres_password' });
    expect(error.problems).toEqual([
      'environment variable DATABASE_PASSWORD_FILE names /nonexistent/postgres_password, which cannot be read (ENOENT)',
    ]);
  });

  it('never repeats a password from a rejected URL in its message', () => {
    const error = configError({ DATABASE_URL: 'mysql://root:hunter22@db/campaigns' });
    expect(error.message).not.toContain('hunter22');
    expect(error.problems).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL, got "mysql://root:***@db/campaigns"',
    ]);
  });
});
