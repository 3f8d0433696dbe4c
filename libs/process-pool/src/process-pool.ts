import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs short-lived commands (git, mostly) through a few long-lived `/bin/sh` helpers instead of
 * forking this process for each.
 *
 * Forking copies the parent's page tables: from a Node process of 200–300 MiB that is 8–16 ms
 * of this thread's time per command on the machines we measured (a virtual machine where page
 * faults are expensive), against about 1 ms for a shell of 1 MiB. A service that runs several
 * git commands per job spent a third of its main thread in `spawn`.
 *
 * Each helper runs one command at a time: it reads the request from its standard input (the
 * working directory, where standard input comes from, whether to keep standard output, then the
 * environment additions and the arguments, one per line), runs the command in a subshell with
 * standard output and standard error sent to files in the helper's own directory (mode 0700),
 * and answers with the exit status. Nothing of the request touches the disk except `input`, and
 * no value appears in any process's arguments except the command's own: credentials given in
 * `env` travel through the pipe and reach only the command's environment.
 *
 * A request a line-based protocol cannot carry (a newline or NUL in any value, an environment
 * name that is not an identifier) and a request that asks for a timeout are spawned directly, as
 * `child_process.spawn` would.
 */
export interface ProcessPoolOptions {
  /** The environment every command starts from (requests add to it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Helpers at most; requests beyond wait for a free one. Default 16. */
  readonly max?: number;
  /** Where the helpers' directories are made; default `os.tmpdir()`. */
  readonly tmpDir?: string;
}

export interface RunOptions {
  readonly cwd: string;
  /** Added to the pool's environment for this command only. */
  readonly env?: Readonly<Record<string, string>>;
  /** The command's standard input; none (`/dev/null`) when absent. */
  readonly input?: string | Buffer;
  /** Or a file to read standard input from (left in place). */
  readonly inputFile?: string;
  /** `ignore` discards standard output (and saves reading it back). Default `buffer`. */
  readonly stdout?: 'buffer' | 'ignore';
  /** Standard error is read back when the command fails; `always` reads it on success too. */
  readonly stderr?: 'on-failure' | 'always';
  /** Kill the command after this long (spawned directly: a helper's command cannot be timed). */
  readonly timeoutMs?: number;
}

export interface RunResult {
  /** The exit status; 128 + n when killed by signal n, 127 when the command was not found. */
  readonly code: number | null;
  readonly stdout: Buffer;
  /** Empty unless the command failed or `stderr: 'always'`. */
  readonly stderr: Buffer;
}

const HELPER_SCRIPT = `
D=$1
while IFS= read -r cwd; do
  IFS= read -r inp
  IFS= read -r keep
  IFS= read -r n
  set --
  while [ "$n" -gt 0 ]; do IFS= read -r a; set -- "$@" "$a"; n=$((n - 1)); done
  o=/dev/null
  if [ "$keep" = 1 ]; then o="$D/out"; fi
  (
    while [ "$1" != -- ]; do export "$1"; shift; done
    shift
    cd "$cwd" && exec "$@"
  ) <"$inp" >"$o" 2>"$D/err"
  echo "$?"
done
`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EMPTY = Buffer.alloc(0);

/** Helper directories to remove when the process exits without closing its pools. */
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function removeOnExit(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

class Helper {
  private readonly child: ChildProcess;
  private pending: { resolve: (code: number) => void; reject: (err: Error) => void } | null = null;
  private buffered = '';
  dead = false;

  constructor(
    env: Readonly<Record<string, string | undefined>>,
    readonly dir: string,
    private readonly onDeath: (helper: Helper) => void,
  ) {
    this.child = spawn('/bin/sh', ['-c', HELPER_SCRIPT, 'process-pool', dir], {
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.child.stdout!.setEncoding('latin1').on('data', (chunk: string) => this.take(chunk));
    this.child.stdin!.on('error', () => this.die(new Error('the process-pool helper went away')));
    this.child.on('error', (err) => this.die(err));
    this.child.on('exit', (code, signal) =>
      this.die(new Error(`the process-pool helper exited (${signal ?? code})`)),
    );
    this.idle();
  }

  /** Runs one request; resolves with its exit status. */
  send(request: string): Promise<number> {
    if (this.dead) return Promise.reject(new Error('the process-pool helper is gone'));
    return new Promise<number>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.busy();
      this.child.stdin!.write(request);
    });
  }

  close(): void {
    this.child.stdin!.end();
  }

  private take(chunk: string): void {
    this.buffered += chunk;
    const end = this.buffered.indexOf('\n');
    if (end < 0) return;
    const line = this.buffered.slice(0, end);
    this.buffered = this.buffered.slice(end + 1);
    const pending = this.pending;
    this.pending = null;
    this.idle();
    const code = Number(line);
    if (pending === null || !Number.isInteger(code)) {
      this.die(new Error(`the process-pool helper answered ${JSON.stringify(line)}`));
      this.child.kill();
      return;
    }
    pending.resolve(code);
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(err);
    this.onDeath(this);
  }

  // Waiting for an answer keeps the event loop alive; an idle helper does not.
  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref?(): void }).ref?.();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref?(): void }).unref?.();
    (this.child.stdin as unknown as { unref?(): void }).unref?.();
  }
}

export class ProcessPool {
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly max: number;
  private readonly tmpDir: string;
  private readonly free: Helper[] = [];
  private readonly all = new Set<Helper>();
  private readonly waiting: ((helper: Helper) => void)[] = [];
  private closed = false;

  constructor(options: ProcessPoolOptions) {
    this.env = options.env;
    this.max = Math.max(1, options.max ?? 16);
    this.tmpDir = options.tmpDir ?? tmpdir();
  }

  /**
   * Runs `file` with `args` and resolves with its status and output, whatever the status. Rejects
   * when the helper running it dies (it is not run again: the command may have had effects), or
   * when a directly spawned command cannot be started.
   */
  async run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
    if (this.closed || !poolable(file, args, options))
      return runDirectly(this.env, file, args, options);
    const helper = await this.acquire();
    try {
      let inputPath = options.inputFile ?? '/dev/null';
      if (options.input !== undefined) {
        inputPath = join(helper.dir, 'in');
        await writeFile(inputPath, options.input, { mode: 0o600 });
      }
      const keep = options.stdout !== 'ignore';
      const words = [
        ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
        '--',
        file,
        ...args,
      ];
      const request = `${options.cwd}\n${inputPath}\n${keep ? 1 : 0}\n${words.length}\n${words.join('\n')}\n`;
      const code = await helper.send(request);
      if (options.input !== undefined) await rm(inputPath, { force: true });
      const stdout = keep ? await readFile(join(helper.dir, 'out')) : EMPTY;
      const stderr =
        code !== 0 || options.stderr === 'always' ? await readFile(join(helper.dir, 'err')) : EMPTY;
      return { code, stdout, stderr };
    } finally {
      this.release(helper);
    }
  }

  /** Ends the helpers and removes their directories; later runs are spawned directly. */
  close(): void {
    this.closed = true;
    for (const h of this.all) {
      h.close();
      this.forget(h);
    }
  }

  private async acquire(): Promise<Helper> {
    const ready = this.free.pop();
    if (ready !== undefined) return ready;
    if (this.all.size < this.max) {
      const dir = mkdtempSync(join(this.tmpDir, 'campaigns-process-pool-'));
      removeOnExit(dir);
      const helper = new Helper(this.env, dir, (h) => this.forget(h));
      this.all.add(helper);
      return helper;
    }
    return new Promise<Helper>((resolve) => this.waiting.push(resolve));
  }

  private release(helper: Helper): void {
    if (helper.dead) return;
    if (this.closed) {
      // Made for a waiter after close(): end it too.
      helper.close();
      this.forget(helper);
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) next(helper);
    else this.free.push(helper);
  }

  private forget(helper: Helper): void {
    if (!this.all.delete(helper)) return;
    const i = this.free.indexOf(helper);
    if (i >= 0) this.free.splice(i, 1);
    rmSync(helper.dir, { recursive: true, force: true });
    liveDirs.delete(helper.dir);
    // Whoever waits for a helper gets a new one in its place.
    const next = this.waiting.shift();
    if (next !== undefined) void this.acquire().then(next);
  }
}

function poolable(file: string, args: readonly string[], options: RunOptions): boolean {
  if (options.timeoutMs !== undefined) return false;
  if (options.input !== undefined && options.inputFile !== undefined)
    throw new Error('process-pool: give input or inputFile, not both');
  const clean = (s: string) => !s.includes('\n') && !s.includes('\0');
  if (!clean(file) || !clean(options.cwd) || !args.every(clean)) return false;
  return Object.entries(options.env ?? {}).every(([k, v]) => ENV_NAME.test(k) && clean(v));
}

/** What `run` does without a helper: one `spawn` of this process. */
function runDirectly(
  base: Readonly<Record<string, string | undefined>>,
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdinFd = options.inputFile !== undefined ? openSync(options.inputFile, 'r') : undefined;
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: { ...base, ...options.env } as NodeJS.ProcessEnv,
        stdio: [
          stdinFd ?? (options.input === undefined ? 'ignore' : 'pipe'),
          options.stdout === 'ignore' ? 'ignore' : 'pipe',
          'pipe',
        ],
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      });
    } finally {
      // The child has its own copy of the descriptor.
      if (stdinFd !== undefined) closeSync(stdinFd);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const status = code ?? (signal !== null ? 128 + (constants.signals[signal] ?? 0) : null);
      resolve({
        code: status,
        stdout: Buffer.concat(out),
        stderr: status !== 0 || options.stderr === 'always' ? Buffer.concat(err) : EMPTY,
      });
    });
    if (child.stdin !== null) {
      child.stdin.on('error', () => {}); // it may exit before reading everything; the status tells
      child.stdin.end(options.input);
    }
  });
}
