import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Writable, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import {
  APPLICATION_LABEL,
  containerGone,
  memoryDir,
  STEP_LABEL,
  WARM_DIR_PREFIX,
  WARM_HOST_LABEL,
  WARM_PID_LABEL,
} from './host-leftovers.js';
import { OutputTail } from './output-tail.js';
import {
  AGENT_SCRIPT,
  agentCanRun,
  AgentConnection,
  CONTROL_PATH,
  runScript,
} from './step-agent.js';

/** Where the step's secrets file is mounted (read-only), sourced by the exec wrapper. */
export const SECRETS_PATH = '/run/campaigns-step-secrets';

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

function sink(tail: OutputTail): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tail.write(chunk);
      callback();
    },
  });
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
      const dir = await mkdtemp(join(memoryDir(), `${WARM_DIR_PREFIX}${process.pid}-`));
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
      const viaAgent = agentCanRun(exec.env);
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
