import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTestDatabase,
  type TestDatabase,
  testCatalogue,
  testMetadata,
  eventually,
  connectTestNats,
} from '@campaigns/events/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { PostgresEventStore } from '@campaigns/events';
import { freePort } from './free-port.js';
import { deleteEventsStream, uniqueEventsEnv } from './unique-events-env.js';
import { spawnService, type ServiceProcess } from './service-process.js';

/**
 * The end-to-end behaviour every service process shares, run against its built entry point with
 * a real PostgreSQL (a fresh database) and NATS. Each service's `main.e2e.spec.ts` calls this.
 */
export function describeServiceProcess(
  service: string,
  options: {
    /** Extra environment for every run (e.g. the service's own configuration). */
    env?: Record<string, string>;
    /** Names of the service's own components, as they appear in the readiness report. */
    components?: readonly string[];
  } = {},
): void {
  const ownEnv = options.env ?? {};
  const ownChecks = Object.fromEntries(
    (options.components ?? []).map((name) => [`component:${name}`, 'ok']),
  );
  const schema = service.replaceAll('-', '_');
  const entry = `services/${service}/dist/main.js`;

  describe(`node ${entry}`, () => {
    let db: TestDatabase;
    let running: ServiceProcess | undefined;
    const eventsEnv = uniqueEventsEnv();

    beforeAll(async () => {
      db = await createTestDatabase(`${schema}_e2e`);
    });

    afterEach(() => {
      if (running?.child.exitCode === null && running.child.signalCode === null)
        running.child.kill('SIGKILL');
      running = undefined;
    });

    afterAll(async () => {
      await deleteEventsStream(eventsEnv);
      await db.drop();
    });

    it('migrates its schema and the event store, serves probes and metrics, and exits 0 on SIGTERM', async () => {
      const port = await freePort();
      running = spawnService(entry, {
        ...ownEnv,
        DATABASE_URL: db.url,
        PORT: String(port),
        ...eventsEnv,
      });

      const listening = await running.waitForLog('where it listens', (l) => l.msg === 'listening');
      expect(listening.url).toBe(`http://127.0.0.1:${port}`);
      const url = listening.url as string;

      const alive = await fetch(`${url}/healthz`);
      expect(alive.status).toBe(200);
      expect(await alive.json()).toEqual({ status: 'alive' });

      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', nats: 'ok', 'component:relay:events': 'ok', ...ownChecks },
      });

      // Its relay candidate publishes what is appended to the store onto the events stream.
      const store = new PostgresEventStore(db.pool, testCatalogue);
      const appended = await store.append(
        'counter-e2e',
        [{ type: 'CounterOpened', data: { label: service } }],
        { expected: 'any', metadata: testMetadata() },
      );
      const nats = await connectTestNats();
      try {
        const jsm = await jetstreamManager(nats);
        const published = await eventually(async () => {
          const last = await jsm.streams
            .getMessage(eventsEnv.EVENTS_STREAM, {
              last_by_subj: `${eventsEnv.EVENTS_SUBJECT_PREFIX}.counter.CounterOpened`,
            })
            .catch(() => null);
          return last?.header.get('Nats-Msg-Id') === appended.events.at(-1)!.eventId;
        });
        expect(published).toBe(true);
      } finally {
        await nats.close();
      }

      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain(`process_cpu_seconds_total{service="${service}"}`);

      const { rows } = await db.pool.query<{ schema_name: string }>(
        `SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('eventstore', $1) ORDER BY 1`,
        [schema],
      );
      expect(rows.map((r) => r.schema_name)).toEqual(['eventstore', schema]);

      running.child.kill('SIGTERM');
      const exit = await running.exited;

      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(running.logs()).toContainEqual(
        expect.objectContaining({ msg: 'shutting down', signal: 'SIGTERM' }),
      );
      expect(running.logs().at(-1)).toMatchObject({ level: 'info', msg: 'shutdown complete' });
      // Only JSON lines naming the service: NestJS's own logs included, nothing on stderr.
      expect(running.stdoutLines.filter((line) => !isServiceJson(line, service))).toEqual([]);
      expect(running.stderr()).toBe('');
    });

    it('exits 1 at once, without retrying, with one fatal line naming PostgreSQL but not its password, when PostgreSQL is unreachable', async () => {
      running = spawnService(entry, {
        ...ownEnv,
        DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/campaigns',
        PORT: '0',
      });

      const exit = await running.exited;

      expect(exit.code).toBe(1);
      // Not a speed check (process start-up alone takes seconds on a loaded machine): a
      // service that retried or hung instead of giving up would still be running at 20 s.
      expect(exit.afterMs).toBeLessThan(20_000);
      const fatal = running.logs().filter((l) => l.level === 'fatal');
      expect(fatal).toEqual([
        expect.objectContaining({
          dependency: 'PostgreSQL',
          url: 'postgres://postgres:***@127.0.0.1:1/campaigns',
        }),
      ]);
      expect(fatal[0]!.msg).toMatch(
        /^cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/campaigns \(set DATABASE_URL\): .*ECONNREFUSED/,
      );
      expect(running.stdoutLines.join('\n')).not.toContain('s3cret-pw');
      expect(running.stderr()).toBe('');
    });

    it('exits 1 at once, without retrying, with one fatal line naming NATS, when NATS is unreachable', async () => {
      running = spawnService(entry, {
        ...ownEnv,
        DATABASE_URL: db.url,
        NATS_URL: 'nats://127.0.0.1:1',
        PORT: '0',
      });

      const exit = await running.exited;

      expect(exit.code).toBe(1);
      // Not a speed check (process start-up alone takes seconds on a loaded machine): a
      // service that retried or hung instead of giving up would still be running at 20 s.
      expect(exit.afterMs).toBeLessThan(20_000);
      const fatal = running.logs().filter((l) => l.level === 'fatal');
      expect(fatal).toEqual([
        expect.objectContaining({ dependency: 'NATS', url: 'nats://127.0.0.1:1' }),
      ]);
      expect(fatal[0]!.msg).toMatch(
        /^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 \(set NATS_URL\): /,
      );
      expect(running.stderr()).toBe('');
    });
  });
}

function isServiceJson(line: string, service: string): boolean {
  try {
    return (JSON.parse(line) as { service?: unknown }).service === service;
  } catch {
    return false;
  }
}
