import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import semver from 'semver';
import { parse } from 'yaml';

// What the Dockerfile and docker-compose.yml promise (U1, "Deployable"). No registry is reachable
// where the tests run, so the image is never built here: these are the promises that can be read
// off the files, checked against the lockfile and the services that exist.

const ROOT = process.cwd();
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface LockEntry {
  engines?: { node?: string } | string[];
  dev?: boolean;
}
interface ComposeService {
  build?: string | { context: string; args?: Record<string, string> };
  image?: string;
  user?: string;
  ports?: string[];
  environment?: Record<string, string | null>;
  secrets?: string[];
  volumes?: string[];
  group_add?: string[];
  healthcheck?: unknown;
  entrypoint?: string[];
  profiles?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockEntry> };
const dockerfile = read('Dockerfile');
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const serviceDirs = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** The Dockerfile's stage named `name`, up to the next FROM. */
function stage(name: string): string {
  const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
  expect(start).toBeGreaterThanOrEqual(0);
  const rest = dockerfile.slice(start + 1);
  const next = rest.search(/^FROM /m);
  return next < 0 ? rest : rest.slice(0, next);
}

describe('the Node.js version', () => {
  it('package.json engines admits only Node.js versions every installed package declares it runs on', () => {
    const refused = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && typeof entry.engines === 'object')
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        if (range === undefined || semver.validRange(range) === null) return [];
        return semver.subset(engines, range) ? [] : [`${path} (${range})`];
      });
    expect(refused).toEqual([]);
  });

  it('the Dockerfile builds and runs on a Node.js major that engines admits', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(image).not.toBeNull();
    expect(semver.intersects(engines, `${image![1]}.x`)).toBe(true);
    // The minimum engines admits is on that major, so the image is not newer than what we say.
    expect(semver.minVersion(engines)?.major).toBe(Number(image![1]));
  });
});

describe('the image', () => {
  it('has git and CA certificates, and runs as an unprivileged user', () => {
    const runtime = stage('runtime');
    expect(runtime).toMatch(/apt-get install[^\n]*\bgit\b/);
    expect(runtime).toMatch(/apt-get install[^\n]*\bca-certificates\b/);
    const users = [...runtime.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('exposes every service port that start.mjs gives a service', () => {
    const exposed = new Set(/^EXPOSE (.+)$/m.exec(dockerfile)![1]!.split(/\s+/));
    const ports = [...read('scripts/start.mjs').matchAll(/defaultPort: (\d+)/g)].map((m) => m[1]);
    expect(ports.length).toBe(serviceDirs.length);
    for (const port of ports) expect(exposed).toContain(port);
  });
});

describe('docker-compose.yml', () => {
  it('runs every service in services/, health-checked, published on loopback only', () => {
    for (const name of serviceDirs) {
      const service = compose.services[name];
      expect({ name, defined: service !== undefined }).toEqual({ name, defined: true });
      expect(service!.build).toMatchObject({ args: { SERVICE: name } });
      expect(service!.healthcheck).toBeDefined();
      for (const port of service!.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('hands code-host tokens over as compose secrets, never as environment values', () => {
    const declared = Object.keys(compose.secrets ?? {});
    expect(declared.length).toBeGreaterThan(0);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        // A credential-looking variable must name a secret's file, not hold the value; one
        // without a value is passed through from the shell that runs compose.
        if (/TOKEN|SECRET|PASSWORD/.test(key) && value !== null) {
          expect({ name, key, value }).toEqual({
            name,
            key: expect.stringMatching(/_FILE$/),
            value: expect.stringMatching(/^\/run\/secrets\//),
          });
        }
      }
      for (const secret of service.secrets ?? []) expect(declared).toContain(secret);
    }
    for (const name of serviceDirs)
      expect(compose.services[name]!.secrets?.length).toBeGreaterThan(0);
  });

  it('runs nothing as root but the one-shot that hands the executor its workspace directory', () => {
    const asRoot = Object.entries(compose.services)
      .filter(([, s]) => s.user === 'root' || s.user === '0')
      .map(([name]) => name);
    expect(asRoot).toEqual(['executor-workdir']);
    const executor = compose.services['executor-service']!;
    expect(executor.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(executor.group_add?.length).toBe(1);
  });

  it('gives the CLI a way in: a cli service on the compose network, not started by up', () => {
    const cli = compose.services['cli']!;
    expect(cli.entrypoint).toEqual(['node', '/app/apps/cli/dist/main.js']);
    expect(cli.profiles).toEqual(['cli']);
    expect(cli.environment?.['NATS_URL']).toBe('nats://nats:4222');
    expect(cli.environment?.['NATS_USER']).toBe('cli');
    expect(cli.environment).toHaveProperty('CAMPAIGN_TOKEN', null);
  });
});
