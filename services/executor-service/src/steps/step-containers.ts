import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { OutputTail } from './output-tail.js';

/** Labels of every warm step container: whose it is, to find the leftovers of a dead executor. */
export const WARM_HOST_LABEL = 'campaigns.warm-host';
export const WARM_PID_LABEL = 'campaigns.warm-pid';
/** The step's index in the spec. */
export const STEP_LABEL = 'campaigns.step';
/** The application (`use`) the container works for: one campaign's SpecApplied. */
export const APPLICATION_LABEL = 'campaigns.apply';

/** Where a warm container sees the executor's heartbeat file (read-only). */
const CONTROL_PATH = '/run/campaigns-control';
/** Where the step's secrets file is mounted (read-only), sourced by the exec wrapper. */
export const SECRETS_PATH = '/run/campaigns-step-secrets';
const HEARTBEAT_MS = 10_000;
/**
 * PID 1 of a warm container: exits when the heartbeat file has not changed for 30 s (a crashed
 * executor), or on TERM; the engine then removes the container (AutoRemove). Shell builtins
 * and `sleep` only, so any image with /bin/sh can run it.
 */
const PID1_SCRIPT = [
  "trap 'exit 0' TERM INT",
  'last=',
  'while :; do',
  `  now=; read -r now < ${CONTROL_PATH}/heartbeat`,
  '  [ "$now" = "$last" ] && exit 0',
  '  last=$now',
  '  sleep 30 & wait $! || exit 0',
  'done',
].join('\n');

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
  #heartbeat: NodeJS.Timeout | null = null;
  #beat = 0;

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
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
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
      await this.#touch(dir);
      return dir;
    })();
    return this.#dir;
  }

  async #touch(dir: string): Promise<void> {
    // Rewritten in place: the container's bind mount keeps the file's inode.
    await writeFile(join(dir, 'control', 'heartbeat'), `${process.pid}-${++this.#beat}\n`);
  }

  async #create(stepIndex: number, spec: StepContainerSpec, signature: string) {
    const slotDir = await this.#slotDir();
    const dir = await mkdtemp(join(slotDir, `step-${stepIndex}-`));
    const binds = [
      `${this.options.workspaceDir}:/work`,
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
      Cmd: ['/bin/sh', '-c', PID1_SCRIPT],
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
        // Steps print nothing through PID 1; output comes through exec streams, never the logs.
        LogConfig: { Type: 'none', Config: {} },
        // docker-init reaps what a step leaves running in the background.
        Init: true,
        AutoRemove: true,
      },
    });
    const warm = { container, signature, dir };
    this.#containers.set(stepIndex, warm);
    try {
      await container.start();
    } catch (err) {
      await this.#remove(stepIndex);
      throw err;
    }
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => {
        void this.#dir?.then((d) => this.#touch(d)).catch(() => undefined);
      }, HEARTBEAT_MS);
      this.#heartbeat.unref();
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
      const run = await this.#exec(stepIndex, warm, exec).catch(async (err: unknown) => {
        if (!containerGone(err)) throw err;
        return 'gone' as const;
      });
      if (run !== 'gone') return run;
      // It stopped before the step began (e.g. its heartbeat lapsed): not the step's doing.
      await this.#remove(stepIndex);
      if (attempt >= 2) throw new Error('the step container stopped before the step could start');
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
