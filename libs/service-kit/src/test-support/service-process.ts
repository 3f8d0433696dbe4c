import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TEST_NATS_URL } from '@campaigns/events/testing';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

// Set only by the test, so a developer's own environment cannot change what is tested.
const SERVICE_VARIABLES = [
  'DATABASE_URL',
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_PASSWORD_FILE',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'SHUTDOWN_TIMEOUT_MS',
];

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from spawn to exit. */
  afterMs: number;
}

/** A built service running as a child process, its stdout collected line by line. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Every stdout line as written; a service should write only JSON objects there. */
  readonly stdoutLines: string[];
  stderr(): string;
  /** Stdout's lines that are JSON, parsed. */
  logs(): Record<string, unknown>[];
  /** Resolves once the process exited and its output was read to the end. */
  readonly exited: Promise<ServiceExit>;
  /** The first log line matching; fails if the process exits or the time runs out first. */
  waitForLog(
    what: string,
    matches: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

/**
 * Runs `node <entry>` (a path from the repository root) as production would, with `env` set; on
 * the shared test broker (as its `services` user) unless `env` names another NATS_URL.
 */
export function spawnService(entry: string, env: Record<string, string>): ServiceProcess {
  if (!existsSync(`${repoRoot}${entry}`)) {
    throw new Error(`${entry} is missing: run \`npm run build\` before the e2e tests`);
  }
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !SERVICE_VARIABLES.includes(name)),
  );
  const started = Date.now();
  const child = spawn(process.execPath, [entry], {
    cwd: repoRoot,
    env: { ...inherited, NATS_URL: TEST_NATS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const stdoutLines: string[] = [];
  let partial = '';
  let stderr = '';
  let closed = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    stdoutLines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close' rather than 'exit': it comes after the last output has been read.
  const exited = new Promise<ServiceExit>((resolve) =>
    child.on('close', (code, signal) => {
      closed = true;
      if (partial) stdoutLines.push(partial);
      resolve({ code, signal, afterMs: Date.now() - started });
    }),
  );

  const logs = () =>
    stdoutLines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const waitForLog = async (
    what: string,
    matches: (line: Record<string, unknown>) => boolean,
    timeoutMs = 40_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs().find(matches);
      if (found) return found;
      if (closed) {
        const output = `stdout:\n${stdoutLines.join('\n')}\nstderr:\n${stderr}`;
        throw new Error(`${entry} exited before logging ${what}; ${output}`);
      }
      if (Date.now() > deadline) throw new Error(`${entry} did not log ${what} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  return { child, stdoutLines, stderr: () => stderr, logs, exited, waitForLog };
}
