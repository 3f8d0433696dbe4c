import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { spawnService, type ServiceProcess } from '../test-support/service-process.js';

describe('bootstrapService', () => {
  let db: TestDatabase;
  let running: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('service_kit_e2e');
  });

  afterEach(() => {
    if (running?.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
    }
  });

  afterAll(async () => {
    await db.drop();
  });

  it('gives up on a shutdown that outlasts SHUTDOWN_TIMEOUT_MS: it logs why and exits 1', async () => {
    running = spawnService('libs/service-kit/src/test-support/stuck-on-stop.service.mjs', {
      DATABASE_URL: db.url,
      PORT: '0',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    await running.waitForLog('where it listens', (l) => l.msg === 'listening');
    // The relay logs its election on its own schedule; once it has, nothing else is logged
    // between the shutdown's two lines (CI once saw it land between them).
    await running.waitForLog('the relay to lead', (l) => l.msg === 'relay is now the leader');

    running.child.kill('SIGTERM');
    const exit = await running.exited;

    expect(exit.code).toBe(1);
    expect(running.logs().slice(-2)).toEqual([
      expect.objectContaining({ level: 'info', msg: 'shutting down', signal: 'SIGTERM' }),
      expect.objectContaining({
        level: 'error',
        msg: 'shutdown took longer than SHUTDOWN_TIMEOUT_MS (300 ms)',
      }),
    ]);
  });

  it('shuts down gracefully when SIGTERM arrives while it is still starting', async () => {
    running = spawnService('libs/service-kit/src/test-support/slow-start.service.mjs', {
      DATABASE_URL: db.url,
      PORT: '0',
    });
    await running.waitForLog(
      'the slow component to start',
      (l) => l.msg === 'slow component starting',
    );

    running.child.kill('SIGTERM');
    const exit = await running.exited;

    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(
      running
        .logs()
        .map((l) => l.msg)
        .slice(-3),
    ).toEqual(['listening', 'shutting down', 'shutdown complete']);
  });

  it('refuses an invalid environment with one fatal line listing every problem, and exits 1', async () => {
    running = spawnService('libs/service-kit/src/test-support/stuck-on-stop.service.mjs', {
      DATABASE_URL: db.url,
      PORT: 'eighty',
      LOG_LEVEL: 'chatty',
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    expect(running.logs()).toEqual([
      expect.objectContaining({
        level: 'fatal',
        service: 'stuck-on-stop',
        problems: [
          'PORT must be an integer from 0 to 65535, got "eighty"',
          'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "chatty"',
        ],
      }),
    ]);
  });
});
