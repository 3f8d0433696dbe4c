import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pollUntil } from '../timing/sleep.js';

// Servers of a test's own, so a test can stop, pause and restart them without disturbing the
// shared PostgreSQL and NATS that every other test (and CI's parallel workers) uses.

/** A TCP port nothing listens on right now, chosen by the OS. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const held = await pollUntil(async () => ((await check()) ? true : undefined), {
    intervalMs: 50,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!held) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
}

async function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = once(child, 'exit');
  child.kill(signal);
  await done;
}

/**
 * How a private nats-server is configured: a configuration file (e.g. deploy/nats/nats.conf), the
 * environment it reads (its passwords), and a user it accepts, to tell when it is up.
 */
export interface PrivateNatsConfig {
  readonly file: string;
  readonly env: Record<string, string>;
  readonly user: string;
  readonly pass: string;
}

/** A nats-server with JetStream on a port and store directory of its own; state survives restarts. */
export class PrivateNatsServer {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
    private readonly config?: PrivateNatsConfig,
  ) {}

  /** Open (no users) by default; with `config`, as that file says. */
  static async start(config?: PrivateNatsConfig): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'campaigns-nats-')),
      config,
    );
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again (after `stop` or `kill`), with the JetStream state it had. */
  async restart(): Promise<void> {
    const config = this.config;
    const args = [
      ...(config ? ['-c', config.file] : ['-js']),
      ...['-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir],
    ];
    this.child = spawn('nats-server', args, {
      stdio: 'ignore',
      env: { ...process.env, ...config?.env },
    });
    const as = config ? { user: config.user, pass: config.pass } : {};
    await until('nats-server to accept connections', async () => {
      try {
        await (
          await connect({ servers: this.url, timeout: 1000, reconnect: false, ...as })
        ).close();
        return true;
      } catch {
        return false;
      }
    });
  }

  /** A clean shutdown (SIGTERM): clients see the connection close. */
  async stop(): Promise<void> {
    if (this.child) await exited(this.child, 'SIGTERM');
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, no heartbeat. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    if (this.child) {
      this.child.kill('SIGCONT');
      await exited(this.child, 'SIGKILL');
    }
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

const POSTGRES_BIN = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(root, version, 'bin') : undefined;
})();

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, trust auth, fsync
 * off), on its own port. PostgreSQL refuses to run as root: as root, it runs as `postgres`.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    if (!POSTGRES_BIN)
      throw new Error('PostgreSQL server binaries not found in /usr/lib/postgresql');
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-pg-'));
    const cluster = new PrivatePostgres(await freePort(), dir);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    cluster.run('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await cluster.restart();
    return cluster;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The URL of a database in this cluster (`postgres` by default). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Starts the server (again), with the data it had. */
  async restart(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
    await until('PostgreSQL to accept connections', async () => {
      const client = new pg.Client({ connectionString: this.url() });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Shuts the server down (fast mode: sessions are terminated, as in a restart). */
  stop(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(program: string, args: string[]): void {
    const path = join(POSTGRES_BIN!, program);
    const [command, argv] =
      process.getuid?.() === 0
        ? ['runuser', ['-u', 'postgres', '--', path, ...args]]
        : [path, args];
    execFileSync(command, argv, { stdio: 'ignore', cwd: this.dir });
  }
}
