import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { parse as parseYaml } from 'yaml';
import {
  evaluateCondition,
  parseTemplate,
  renderTemplate,
  stepEnvironment,
  TemplateError,
  type ChangedFiles,
  type FileDiff,
  type Step,
  type StepResult,
  type TemplateValue,
} from '@campaigns/campaign-spec';
import { OutputTail } from './output-tail.js';
import {
  changedFiles,
  stagedBinaryDiff,
  stagedFileDiffs,
  stageWorkspace,
} from './workspace-diff.js';

export const DEFAULT_STEP_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;
/** How much of the failing step's stderr a failure carries. */
export const STDERR_TAIL_BYTES = 4096;

export interface RunStepsOptions {
  /** The checked-out repository (from `fetchRepository`); mounted at `/work`. */
  readonly workspaceDir: string;
  /** The commit the workspace was checked out at; the diff is taken against it. */
  readonly baseRevision: string;
  /** Directory of the workspace inside the repository (`''` for the root); steps run there. */
  readonly path?: string;
  readonly steps: readonly Step[];
  /** Values for `env` entries given as a bare NAME. Passed to containers only, never stored. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Template data beside the step namespaces: `repository`, `campaign`/`batch_change`. */
  readonly templateData?: Readonly<Record<string, TemplateValue>>;
  /** Per-step limit; the container is killed when it is reached. */
  readonly timeoutMs?: number;
  /** Bytes of stdout and of stderr kept per step (the tail). */
  readonly outputCapBytes?: number;
  /** Try `docker pull` for an image that is not present (default true). */
  readonly pullMissingImages?: boolean;
  /** `uid:gid` the steps run as; defaults to this process's, so created files belong to it. */
  readonly user?: string;
  readonly docker?: Docker;
  /** Labels added to every step container, e.g. the execution's id, to find or clean them up. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What one step did, as campaign-spec's `StepResult`, plus how it ended. */
export interface ExecutedStep extends StepResult {
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** Bytes dropped from the start of stdout/stderr because of the output cap. */
  readonly droppedStdoutBytes: number;
  readonly droppedStderrBytes: number;
}

export type StepFailureReason =
  | 'image-missing'
  | 'command-failed'
  | 'timeout'
  | 'template'
  | 'missing-secret'
  | 'invalid-files'
  | 'docker';

/** Why the execution failed, in the shape `ExecutionFailed` records. */
export interface StepFailure {
  readonly reason: StepFailureReason;
  /** Index of the step in `steps`. */
  readonly stepIndex: number;
  /** One sentence a user can act on. */
  readonly message: string;
  readonly exitCode?: number | null;
  readonly stderrTail?: string;
  readonly timeoutMs?: number;
  readonly image?: string;
}

export interface StepsSucceeded {
  readonly ok: true;
  /** `git diff --cached --binary` of all steps against the base commit; empty when nothing changed. */
  readonly diff: Buffer;
  readonly empty: boolean;
  readonly files: ChangedFiles;
  /** `diff` split per file, for campaign-spec's `StepResults.fileDiffs` (transformChanges). */
  readonly fileDiffs: readonly FileDiff[];
  readonly outputs: Readonly<Record<string, TemplateValue>>;
  readonly steps: readonly ExecutedStep[];
}

export interface StepsFailed {
  readonly ok: false;
  readonly failure: StepFailure;
  /** The steps that finished before the failure (and the failing one, when it ran). */
  readonly steps: readonly ExecutedStep[];
}

export type RunStepsResult = StepsSucceeded | StepsFailed;

class StepFailed extends Error {
  constructor(readonly failure: StepFailure) {
    super(failure.message);
  }
}

const NO_FILES: ChangedFiles = { modified: [], added: [], deleted: [], renamed: [] };

function filesData(files: ChangedFiles): Record<string, TemplateValue> {
  return {
    modified_files: [...files.modified],
    added_files: [...files.added],
    deleted_files: [...files.deleted],
    renamed_files: [...files.renamed],
  };
}

function stepData(step: ExecutedStep | undefined): Record<string, TemplateValue> {
  return {
    ...filesData(step?.files ?? NO_FILES),
    stdout: step?.stdout ?? '',
    stderr: step?.stderr ?? '',
  };
}

/**
 * Runs the steps one after another, each in a fresh container of its image with the workspace
 * at `/work`, then stages the workspace and returns the cumulative diff. Every failure (missing
 * image, exit code, timeout, bad template) is returned as a value; containers are always removed.
 */
export async function runSteps(options: RunStepsOptions): Promise<RunStepsResult> {
  const docker = options.docker ?? new Docker();
  const path = options.path ?? '';
  const executed: ExecutedStep[] = [];
  const outputs: Record<string, TemplateValue> = {};
  let tree = options.baseRevision;
  let cumulative: ChangedFiles = NO_FILES;

  for (const [stepIndex, step] of options.steps.entries()) {
    const data: Record<string, TemplateValue> = {
      ...options.templateData,
      previous_step: stepData(executed.at(-1)),
      steps: { ...filesData(cumulative), path },
      outputs: { ...outputs },
    };
    try {
      if (!condition(step, stepIndex, data)) {
        executed.push({
          stepIndex,
          skipped: true,
          stdout: '',
          stderr: '',
          files: NO_FILES,
          exitCode: null,
          durationMs: 0,
          droppedStdoutBytes: 0,
          droppedStderrBytes: 0,
        });
        continue;
      }
      const started = Date.now();
      const run = await runContainer(docker, options, step, stepIndex, data, path);
      const nextTree = await stageWorkspace(options.workspaceDir);
      const result: ExecutedStep = {
        stepIndex,
        skipped: false,
        stdout: run.stdout.text(),
        stderr: run.stderr.text(),
        files: await changedFiles(options.workspaceDir, tree, nextTree),
        exitCode: run.exitCode,
        durationMs: Date.now() - started,
        droppedStdoutBytes: run.stdout.droppedBytes,
        droppedStderrBytes: run.stderr.droppedBytes,
      };
      executed.push(result);
      if (run.timedOut) {
        throw new StepFailed({
          reason: 'timeout',
          stepIndex,
          message: `step ${stepIndex + 1} did not finish within ${options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS} ms and was killed`,
          timeoutMs: options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
          stderrTail: tail(result.stderr),
        });
      }
      if (run.exitCode !== 0) {
        throw new StepFailed({
          reason: 'command-failed',
          stepIndex,
          message: `step ${stepIndex + 1} exited with code ${run.exitCode}`,
          exitCode: run.exitCode,
          stderrTail: tail(result.stderr),
        });
      }
      tree = nextTree;
      cumulative = await changedFiles(options.workspaceDir, options.baseRevision, tree);
      Object.assign(outputs, renderOutputs(step, stepIndex, { ...data, step: stepData(result) }));
    } catch (err) {
      if (err instanceof StepFailed) return { ok: false, failure: err.failure, steps: executed };
      throw err;
    }
  }

  const diff = await stagedBinaryDiff(options.workspaceDir, options.baseRevision);
  const fileDiffs = await stagedFileDiffs(options.workspaceDir, options.baseRevision, diff);
  return {
    ok: true,
    diff,
    empty: diff.length === 0,
    files: cumulative,
    fileDiffs,
    outputs,
    steps: executed,
  };
}

function tail(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= STDERR_TAIL_BYTES
    ? text
    : bytes.subarray(bytes.length - STDERR_TAIL_BYTES).toString('utf8');
}

function templateFailure(stepIndex: number, field: string, err: unknown): never {
  if (err instanceof TemplateError) {
    throw new StepFailed({
      reason: 'template',
      stepIndex,
      message: `step ${stepIndex + 1} ${field}: template error: ${err.message}`,
    });
  }
  throw err;
}

function render(
  source: string,
  data: Record<string, TemplateValue>,
  stepIndex: number,
  field: string,
): string {
  try {
    return renderTemplate(parseTemplate(source), data);
  } catch (err) {
    return templateFailure(stepIndex, field, err);
  }
}

function condition(step: Step, stepIndex: number, data: Record<string, TemplateValue>): boolean {
  if (step.if == null) return true;
  if (typeof step.if === 'boolean') return step.if;
  try {
    return evaluateCondition(parseTemplate(step.if), data);
  } catch (err) {
    return templateFailure(stepIndex, 'if', err);
  }
}

function renderOutputs(
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
): Record<string, TemplateValue> {
  const rendered: Record<string, TemplateValue> = {};
  for (const [name, output] of Object.entries(step.outputs ?? {})) {
    const text = render(output.value, data, stepIndex, `outputs.${name}`);
    try {
      rendered[name] =
        output.format === 'json'
          ? (JSON.parse(text) as TemplateValue)
          : output.format === 'yaml'
            ? ((parseYaml(text) ?? null) as TemplateValue)
            : text;
    } catch (err) {
      throw new StepFailed({
        reason: 'template',
        stepIndex,
        message: `step ${stepIndex + 1} outputs.${name}: the value is not valid ${output.format}: ${(err as Error).message}`,
      });
    }
  }
  return rendered;
}

interface ContainerRun {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
}

interface StepEnvironment {
  /** NAME=value pairs from the spec, given to the engine as the container's Env. */
  readonly plain: string[];
  /** Secrets by name; they go through a memory-backed file instead (see `secretsFile`). */
  readonly secret: Map<string, string>;
}

function resolveEnvironment(
  step: Step,
  stepIndex: number,
  secrets: Readonly<Record<string, string>>,
  data: Record<string, TemplateValue>,
): StepEnvironment {
  const env: StepEnvironment = { plain: [], secret: new Map() };
  for (const variable of stepEnvironment(step)) {
    if ('fromSecret' in variable) {
      if (!Object.hasOwn(secrets, variable.name)) {
        throw new StepFailed({
          reason: 'missing-secret',
          stepIndex,
          message: `step ${stepIndex + 1} needs the secret ${variable.name}, which the executor does not have`,
        });
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable.name)) {
        throw new StepFailed({
          reason: 'missing-secret',
          stepIndex,
          message: `step ${stepIndex + 1}: the secret name ${variable.name} is not a shell variable name`,
        });
      }
      env.secret.set(variable.name, secrets[variable.name]!);
    } else {
      const value = render(variable.value, data, stepIndex, `env.${variable.name}`);
      env.plain.push(`${variable.name}=${value}`);
    }
  }
  return env;
}

const SECRETS_PATH = '/run/campaigns-step-secrets';

/**
 * The engine stores a container's Env on disk, so secrets are handed over in a file in memory
 * (/dev/shm) mounted read-only, which a wrapper sources before running the step's script.
 */
function secretsFile(secret: ReadonlyMap<string, string>): string {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  return [...secret].map(([name, value]) => `${name}=${quote(value)}\n`).join('');
}

function scriptDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function pullImage(
  docker: Docker,
  image: string,
  timeoutMs: number,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const pulled = (async () => {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
  })();
  // An unreachable registry can swallow packets instead of refusing; the step's timeout bounds the pull too.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the pull took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([pulled, timedOut]);
    return undefined;
  } catch (err) {
    pulled.catch(() => undefined);
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

async function ensureImage(
  docker: Docker,
  options: RunStepsOptions,
  image: string,
  stepIndex: number,
) {
  if (await imagePresent(docker, image)) return;
  const pullError =
    options.pullMissingImages === false
      ? 'pulling is disabled'
      : await pullImage(docker, image, options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
  if (pullError === undefined && (await imagePresent(docker, image))) return;
  throw new StepFailed({
    reason: 'image-missing',
    stepIndex,
    image,
    message: `step ${stepIndex + 1}: the image ${image} is not present and cannot be pulled (${(pullError ?? 'pull finished without the image').trim()})`,
  });
}

async function runContainer(
  docker: Docker,
  options: RunStepsOptions,
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
  path: string,
): Promise<ContainerRun> {
  const script = render(step.run, data, stepIndex, 'run');
  const env = resolveEnvironment(step, stepIndex, options.secrets ?? {}, data);
  try {
    await ensureImage(docker, options, step.container, stepIndex);
  } catch (err) {
    if (err instanceof StepFailed) throw err;
    throw dockerFailure(stepIndex, err);
  }
  const filesDir = await mkdtemp(join(scriptDir(), 'campaigns-step-files-'));
  try {
    const binds = [`${options.workspaceDir}:/work`];
    for (const [index, [target, content]] of Object.entries(step.files ?? {}).entries()) {
      const containerPath = posix.resolve('/', target);
      if (containerPath === '/work' || containerPath.startsWith('/work/')) {
        throw new StepFailed({
          reason: 'invalid-files',
          stepIndex,
          message: `step ${stepIndex + 1} files: ${target} is inside the workspace (/work); files are for the container only`,
        });
      }
      // One host file per entry, mounted read-only at its path: the workspace never sees it.
      const hostPath = join(filesDir, String(index));
      await writeFile(hostPath, render(content, data, stepIndex, `files.${target}`), {
        mode: 0o644,
      });
      binds.push(`${hostPath}:${containerPath}:ro`);
    }
    let command = ['/bin/sh', '-c', script];
    if (env.secret.size > 0) {
      const hostPath = join(filesDir, 'secrets');
      await writeFile(hostPath, secretsFile(env.secret), { mode: 0o600 });
      binds.push(`${hostPath}:${SECRETS_PATH}:ro`);
      // `$0` carries the script, so it is not re-quoted; exec keeps the step's shell as PID 1.
      command = [
        '/bin/sh',
        '-c',
        `set -a && . ${SECRETS_PATH} && set +a && exec /bin/sh -c "$0"`,
        script,
      ];
    }
    return await startAndWait(docker, options, step, stepIndex, command, env.plain, binds, path);
  } finally {
    await rm(filesDir, { recursive: true, force: true });
  }
}

function dockerFailure(stepIndex: number, err: unknown): StepFailed {
  return new StepFailed({
    reason: 'docker',
    stepIndex,
    message: `step ${stepIndex + 1}: the Docker engine refused the step: ${(err as Error).message}`,
  });
}

function sink(tail: OutputTail): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      tail.write(chunk);
      callback();
    },
  });
}

async function startAndWait(
  docker: Docker,
  options: RunStepsOptions,
  step: Step,
  stepIndex: number,
  command: string[],
  env: string[],
  binds: string[],
  path: string,
): Promise<ContainerRun> {
  const cap = options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const stdout = new OutputTail(cap);
  const stderr = new OutputTail(cap);
  const user =
    options.user ??
    (process.getuid && process.getgid ? `${process.getuid()}:${process.getgid()}` : undefined);
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: step.container,
      Cmd: command,
      Env: env,
      WorkingDir: path ? posix.join('/work', path) : '/work',
      ...(user ? { User: user } : {}),
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      // Output is captured through the attach stream; nothing of it (secrets a step prints) lands in the engine's logs.
      HostConfig: { Binds: binds, LogConfig: { Type: 'none', Config: {} } },
      Labels: { ...options.labels, 'campaigns.step': String(stepIndex) },
    });
  } catch (err) {
    throw dockerFailure(stepIndex, err);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    docker.modem.demuxStream(stream, sink(stdout), sink(stderr));
    await container.start();
    // Asked after start: `not-running` then answers at exit, or at once if the step already ended.
    const exited = container.wait({ condition: 'not-running' }) as Promise<{ StatusCode: number }>;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([exited, timedOut]);
    if (outcome === 'timeout') {
      await container.kill().catch(() => undefined);
      exited.catch(() => undefined);
    }
    // The attach stream ends right after the process; bounded so a stuck engine cannot hang us.
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    (stream as unknown as { destroy(): void }).destroy();
    return outcome === 'timeout'
      ? { exitCode: null, timedOut: true, stdout, stderr }
      : { exitCode: outcome.StatusCode, timedOut: false, stdout, stderr };
  } catch (err) {
    throw dockerFailure(stepIndex, err);
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}
