import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { OutputTail } from './output-tail.js';

/** Labels of every warm step container: whose it is, to find the leftovers of a dead executor. */
export const WARM_HOST_LABEL = 'campaigns.warm-host';
export const WARM_PID_LABEL = 'campaigns.warm-pid';
/** The step's index in the spec. */
export const STEP_LABEL = 'campaigns.step';
/** The application (`use`) the container works for: one campaign's SpecApplied. */
export const APPLICATION_LABEL = 'campaigns.apply';

/** Where a warm container finds the run scripts the executor writes. */
const CONTROL_PATH = '/run/campaigns-control';
/** Where the step's secrets file is mounted (read-only), sourced by the exec wrapper. */
export const SECRETS_PATH = '/run/campaigns-step-secrets';
/**
 * PID 1's child in a warm container: runs one step per line it reads on stdin (`<script>
 * <marker>`), with the step's stdin from /dev/null, then writes the marker and the exit code to
 * stdout and the marker to stderr, so the executor knows where one run's output ends. The
 * executor attaches once with StdinOnce: when it dies its connection drops, stdin closes and the
 * container ends (AutoRemove). Shell builtins only, so any image with /bin/sh can run it; a run
 * costs a fork instead of a `docker exec` (~35 ms of CPU in the engine each).
 */
const AGENT_SCRIPT = [
  "trap 'exit 0' TERM INT",
  "while IFS=' ' read -r script marker; do",
  // In the background, so a TERM (a step that kills PID 1) ends the agent at once.
  `  /bin/sh "${CONTROL_PATH}/$script" </dev/null &`,
  '  wait $!',
  '  rc=$?',
  `  printf '%s %s\\n' "$marker" "$rc"`,
  `  printf '%s\\n' "$marker" >&2`,
  'done',
].join('\n');

/** Environment names a run script can export; others go through `docker exec`. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The script the agent runs for one step: its directory, its environment, then its command. */
export function runScript(exec: Pick<StepExec, 'command' | 'env' | 'workingDir'>): string {
  // Removed by the executor when the run ends (an `rm` here was one more process per step).
  const lines = [`cd ${shellQuote(exec.workingDir)} || exit 126`];
  for (const assignment of exec.env) {
    const eq = assignment.indexOf('=');
    lines.push(`export ${assignment.slice(0, eq)}=${shellQuote(assignment.slice(eq + 1))}`);
  }
  lines.push(`exec ${exec.command.map(shellQuote).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** What makes a container fit a step: created for it, reused only for the same. */
export interface StepContainerSpec {
  readonly image: string;
  /** Container paths of the step's `files:` entries, each a host file mounted read-only. */
  readonly filePaths: readonly string[];
  readonly withSecrets: boolean;
}

/** One run of a step's script in its container. */
export interface StepExec {
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  /** Contents of the `files:` entries, in `filePaths` order, written in place before the run. */
  readonly files: readonly string[];
  /** The secrets file's content (shell assignments), or null. */
  readonly secrets: string | null;
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
}

export interface ContainerRun {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The container stopped while the step ran (its PID 1 or the container was killed). */
  readonly containerStopped: boolean;
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
}

interface WarmContainer {
  readonly container: Docker.Container;
  readonly signature: string;
  readonly dir: string;
  readonly agent: AgentConnection;
}

function signatureOf(spec: StepContainerSpec): string {
  return JSON.stringify([spec.image, spec.filePaths, spec.withSecrets]);
}

/** The engine refused because the container is gone or stopped: a new one will do. */
function containerGone(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e.statusCode === 404 || e.statusCode === 409 || /not running/i.test(e.message ?? '');
}

function sink(tail: OutputTail): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tail.write(chunk);
      callback();
    },
  });
}

function memoryDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

const DIR_PREFIX = `campaigns-warm-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the warm containers and memory files that executors on this host left when they
 * died (their process is gone). Their containers would stop by themselves within a minute.
 */
export async function removeDeadExecutorsContainers(docker: Docker): Promise<void> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${WARM_HOST_LABEL}=${hostname()}`] },
  });
  await Promise.all(
    containers
      .filter((c) => {
        const pid = Number(c.Labels[WARM_PID_LABEL]);
        return !alive(pid);
      })
      .map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (!containerGone(err)) throw err;
          }),
      ),
  );
  for (const name of await readdir(memoryDir()).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(name.slice(DIR_PREFIX.length))?.[1] ?? NaN);
    if (name.startsWith(DIR_PREFIX) && Number.isInteger(pid) && !alive(pid)) {
      await rm(join(memoryDir(), name), { recursive: true, force: true });
    }
  }
}

export interface StepContainersOptions {
  readonly docker: Docker;
  /** The host directory mounted at /work; a workspace is laid out in it, never replaced. */
  readonly workspaceDir: string;
  /** Added to every container's labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `uid:gid` of PID 1 and of every step. */
  readonly user?: string;
}

/**
 * A worker slot's long-lived step containers: one per step index of the one campaign
 * application the slot works for, each with the slot's workspace directory at /work. A step
 * runs with `docker exec`; `files:` and secrets are host files in memory, mounted at creation
 * and rewritten in place per run. Switching to another application, a timeout, a container
 * that stopped, and `removeAll` remove containers; the next run creates a new one.
 */
export class StepContainers {
  readonly #docker: Docker;
  readonly #containers = new Map<number, WarmContainer>();
  #application: string | null = null;
  #dir: Promise<string> | null = null;
  #runs = 0;

  constructor(private readonly options: StepContainersOptions) {
    this.#docker = options.docker;
  }

  get workspaceDir(): string {
    return this.options.workspaceDir;
  }

  /** The application the containers work for, if any. */
  get application(): string | null {
    return this.#application;
  }

  /** Binds the slot to a campaign application; another one's containers are removed first. */
  async use(application: string): Promise<void> {
    if (this.#application !== application) await this.removeAll();
    this.#application = application;
  }

  /** Removes every container of the slot (at stop, or when it moves to another application). */
  async removeAll(): Promise<void> {
    const all = [...this.#containers.keys()];
    await Promise.all(all.map((stepIndex) => this.#remove(stepIndex)));
    this.#application = null;
    const dir = this.#dir;
    this.#dir = null;
    if (dir) await rm(await dir, { recursive: true, force: true });
  }

  /** Whether a container fit for the step is running (else `run` creates one). */
  fits(stepIndex: number, spec: StepContainerSpec): boolean {
    return this.#containers.get(stepIndex)?.signature === signatureOf(spec);
  }

  async #remove(stepIndex: number): Promise<void> {
    const warm = this.#containers.get(stepIndex);
    if (!warm) return;
    this.#containers.delete(stepIndex);
    await warm.container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (!containerGone(err)) throw err;
    });
    await rm(warm.dir, { recursive: true, force: true });
  }

  async #slotDir(): Promise<string> {
    this.#dir ??= (async () => {
      const dir = await mkdtemp(join(memoryDir(), `${DIR_PREFIX}${process.pid}-`));
      await mkdir(join(dir, 'control'));
      return dir;
    })();
    return this.#dir;
  }

  async #create(stepIndex: number, spec: StepContainerSpec, signature: string) {
    const slotDir = await this.#slotDir();
    const dir = await mkdtemp(join(slotDir, `step-${stepIndex}-`));
    const binds = [
      `${this.options.workspaceDir}:/work`,
      // Read-only: the executor writes a run's script and removes it when the run ends.
      `${join(slotDir, 'control')}:${CONTROL_PATH}:ro`,
    ];
    for (const [index, containerPath] of spec.filePaths.entries()) {
      const hostPath = join(dir, `file-${index}`);
      await writeFile(hostPath, '', { mode: 0o644 });
      binds.push(`${hostPath}:${containerPath}:ro`);
    }
    if (spec.withSecrets) {
      const hostPath = join(dir, 'secrets');
      await writeFile(hostPath, '', { mode: 0o600 });
      binds.push(`${hostPath}:${SECRETS_PATH}:ro`);
    }
    const container = await this.#docker.createContainer({
      Image: spec.image,
      Cmd: ['/bin/sh', '-c', AGENT_SCRIPT],
      // One attached client, whose departure closes stdin: the agent then ends the container.
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      WorkingDir: '/work',
      ...(this.options.user ? { User: this.options.user } : {}),
      Tty: false,
      Labels: {
        ...this.options.labels,
        ...(this.#application !== null ? { [APPLICATION_LABEL]: this.#application } : {}),
        [WARM_HOST_LABEL]: hostname(),
        [WARM_PID_LABEL]: String(process.pid),
        [STEP_LABEL]: String(stepIndex),
      },
      HostConfig: {
        Binds: binds,
        // Output comes through the attach stream, never the engine's logs.
        LogConfig: { Type: 'none', Config: {} },
        // docker-init reaps what a step leaves running in the background.
        Init: true,
        AutoRemove: true,
      },
    });
    let warm: WarmContainer;
    try {
      const stream = (await container.attach({
        stream: true,
        hijack: true,
        stdin: true,
        stdout: true,
        stderr: true,
      })) as unknown as Duplex;
      warm = { container, signature, dir, agent: new AgentConnection(this.#docker, stream) };
      this.#containers.set(stepIndex, warm);
      await container.start();
    } catch (err) {
      await container.remove({ force: true, v: true }).catch(() => undefined);
      await this.#remove(stepIndex);
      throw err;
    }
    return warm;
  }

  /** Runs the step in its warm container (created when missing or unfit). */
  async run(stepIndex: number, spec: StepContainerSpec, exec: StepExec): Promise<ContainerRun> {
    const signature = signatureOf(spec);
    for (let attempt = 1; ; attempt++) {
      let warm = this.#containers.get(stepIndex);
      if (warm && warm.signature !== signature) {
        await this.#remove(stepIndex);
        warm = undefined;
      }
      warm ??= await this.#create(stepIndex, spec, signature);
      await Promise.all([
        ...exec.files.map((content, index) => writeFile(join(warm.dir, `file-${index}`), content)),
        ...(exec.secrets !== null ? [writeFile(join(warm.dir, 'secrets'), exec.secrets)] : []),
      ]);
      const viaAgent = exec.env.every((e) => SHELL_NAME.test(e.slice(0, e.indexOf('='))));
      const run = await (
        viaAgent ? this.#runInAgent(stepIndex, warm, exec) : this.#exec(stepIndex, warm, exec)
      ).catch(async (err: unknown) => {
        if (!containerGone(err)) throw err;
        return 'gone' as const;
      });
      if (run !== 'gone') return run;
      // It stopped before the step began (e.g. its heartbeat lapsed): not the step's doing.
      await this.#remove(stepIndex);
      if (attempt >= 2) throw new Error('the step container stopped before the step could start');
    }
  }

  /** Runs the step through the container's agent: a run script in the control directory. */
  async #runInAgent(
    stepIndex: number,
    warm: WarmContainer,
    options: StepExec,
  ): Promise<ContainerRun> {
    const control = join(await this.#slotDir(), 'control');
    const name = `run-${++this.#runs}`;
    await writeFile(join(control, name), runScript(options), { mode: 0o644 });
    try {
      const outcome = await warm.agent.run(name, options.outputCapBytes, options.timeoutMs);
      if (outcome.kind === 'timeout') {
        await this.#remove(stepIndex);
        return { exitCode: null, timedOut: true, containerStopped: false, ...outcome.output };
      }
      if (outcome.kind === 'stopped') {
        const status = await warm.container
          .wait({ condition: 'not-running' })
          .then((r: { StatusCode?: number }) => r.StatusCode ?? null)
          .catch(() => null);
        await this.#remove(stepIndex);
        if (outcome.beforeStart) {
          // Nothing of the step ran: the container was gone already; a new one will do.
          throw Object.assign(new Error('the step container is not running'), { statusCode: 409 });
        }
        return {
          exitCode: status === 0 ? null : status,
          timedOut: false,
          containerStopped: true,
          ...outcome.output,
        };
      }
      return {
        exitCode: outcome.exitCode,
        timedOut: false,
        containerStopped: false,
        ...outcome.output,
      };
    } finally {
      await rm(join(control, name), { force: true });
    }
  }

  async #exec(stepIndex: number, warm: WarmContainer, options: StepExec): Promise<ContainerRun> {
    const stdout = new OutputTail(options.outputCapBytes);
    const stderr = new OutputTail(options.outputCapBytes);
    const exec = await warm.container.exec({
      Cmd: [...options.command],
      Env: [...options.env],
      WorkingDir: options.workingDir,
      ...(this.options.user ? { User: this.options.user } : {}),
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    this.#docker.modem.demuxStream(stream, sink(stdout), sink(stderr));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    try {
      if ((await Promise.race([ended, timedOut])) === 'timeout') {
        // No engine call stops one exec: the container goes, and the next run gets a new one.
        await this.#remove(stepIndex);
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        return { exitCode: null, timedOut: true, containerStopped: false, stdout, stderr };
      }
    } finally {
      clearTimeout(timer);
      (stream as unknown as { destroy(): void }).destroy();
    }
    const info = await exec.inspect();
    if (!info.Pid) {
      // The exec never started: the container had stopped.
      throw Object.assign(new Error('the step container is not running'), { statusCode: 409 });
    }
    let containerStopped = false;
    if (info.ExitCode !== 0) {
      // A killed step's exit can be reported a moment before its container's end.
      const stopped =
        info.ExitCode !== null && info.ExitCode >= 128
          ? Promise.race([
              warm.container.wait({ condition: 'not-running' }).then(() => true),
              new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
            ]).catch(() => true)
          : warm.container.inspect().then(
              (c) => !c.State.Running,
              () => true,
            );
      if (await stopped) {
        containerStopped = true;
        await this.#remove(stepIndex);
      }
    }
    return { exitCode: info.ExitCode ?? null, timedOut: false, containerStopped, stdout, stderr };
  }
}

/** One stream of a run (stdout or stderr): output up to the run's marker goes to the tail. */
class MarkedOutput {
  readonly tail: OutputTail;
  /** Bytes after the marker (on stdout: ` <exit code>\n`). */
  after = Buffer.alloc(0);
  done = false;
  #held = Buffer.alloc(0);

  constructor(
    private readonly marker: Buffer,
    cap: number,
  ) {
    this.tail = new OutputTail(cap);
  }

  write(chunk: Buffer): void {
    if (this.done) {
      this.after = Buffer.concat([this.after, chunk]);
      return;
    }
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      this.tail.write(data.subarray(0, at));
      this.done = true;
      this.after = Buffer.from(data.subarray(at + this.marker.length));
      this.#held = Buffer.alloc(0);
      return;
    }
    // A marker may straddle chunks: hold back what could be its beginning.
    const keep = Math.min(data.length, this.marker.length - 1);
    this.tail.write(data.subarray(0, data.length - keep));
    this.#held = Buffer.from(data.subarray(data.length - keep));
  }

  /** Whatever was held back, once the run ends without a marker. */
  flush(): void {
    this.tail.write(this.#held);
    this.#held = Buffer.alloc(0);
  }
}

type AgentOutcome =
  | { kind: 'exited'; exitCode: number; output: { stdout: OutputTail; stderr: OutputTail } }
  | { kind: 'timeout'; output: { stdout: OutputTail; stderr: OutputTail } }
  | {
      kind: 'stopped';
      /** The stream had ended before this run was sent. */
      beforeStart: boolean;
      output: { stdout: OutputTail; stderr: OutputTail };
    };

interface PendingRun {
  stdout: MarkedOutput;
  stderr: MarkedOutput;
  settle(outcome: AgentOutcome): void;
}

/**
 * The executor's end of a warm container's agent: one hijacked attach stream, stdin carrying
 * one line per run, stdout and stderr demultiplexed and split at each run's random marker.
 * Output written between runs (a step's leftover background process) belongs to no run.
 */
class AgentConnection {
  #pending: PendingRun | null = null;
  #ended = false;

  constructor(
    docker: Docker,
    private readonly stream: Duplex,
  ) {
    docker.modem.demuxStream(
      stream,
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          this.#pending?.stdout.write(chunk);
          this.#check();
          callback();
        },
      }),
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          this.#pending?.stderr.write(chunk);
          this.#check();
          callback();
        },
      }),
    );
    const end = () => {
      if (this.#ended) return;
      this.#ended = true;
      const pending = this.#pending;
      if (pending) {
        pending.stdout.flush();
        pending.stderr.flush();
        pending.settle({ kind: 'stopped', beforeStart: false, output: outputOf(pending) });
      }
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  run(script: string, capBytes: number, timeoutMs: number): Promise<AgentOutcome> {
    const marker = `__campaigns_run_${randomBytes(16).toString('hex')}__`;
    const markerBytes = Buffer.from(marker, 'latin1');
    const stdout = new MarkedOutput(markerBytes, capBytes);
    const stderr = new MarkedOutput(markerBytes, capBytes);
    if (this.#ended) {
      return Promise.resolve({
        kind: 'stopped',
        beforeStart: true,
        output: outputOf({ stdout, stderr }),
      });
    }
    return new Promise<AgentOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        stdout.flush();
        stderr.flush();
        resolve({ kind: 'timeout', output: outputOf({ stdout, stderr }) });
      }, timeoutMs);
      this.#pending = {
        stdout,
        stderr,
        settle: (outcome) => {
          clearTimeout(timer);
          this.#pending = null;
          resolve(outcome);
        },
      };
      this.stream.write(`${script} ${marker}\n`);
    });
  }

  /** Settles the pending run once both streams passed its marker and the exit code is complete. */
  #check(): void {
    const pending = this.#pending;
    if (!pending?.stdout.done || !pending.stderr.done) return;
    const line = pending.stdout.after.toString('latin1');
    const newline = line.indexOf('\n');
    if (newline < 0) return;
    const exitCode = Number(line.slice(0, newline).trim());
    pending.settle({
      kind: 'exited',
      exitCode: Number.isInteger(exitCode) ? exitCode : 255,
      output: outputOf(pending),
    });
  }
}

function outputOf(run: { stdout: MarkedOutput; stderr: MarkedOutput }) {
  return { stdout: run.stdout.tail, stderr: run.stderr.tail };
}
