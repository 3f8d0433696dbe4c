import { mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
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
import {
  SECRETS_PATH,
  StepContainers,
  type ContainerRun,
  type StepContainerSpec,
} from './step-containers.js';
import { newObjectsPack } from './tree-pack.js';
import type { NodeStage } from './node-workspace.js';
import {
  changedFiles,
  EMPTY_DIFF,
  NO_FILES,
  stagedDiff,
  stageWorkspace,
  type StagedDiff,
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
  /**
   * A worker slot's warm containers, whose `workspaceDir` must be this one; they stay for the
   * next workspace. Without it, the steps get containers of their own, removed at the end.
   */
  readonly containers?: StepContainers;
  /**
   * The workspace's staged state in memory, from a checkout in Node (`checkoutWorkspace`): the
   * steps' changes are staged in Node too, and git runs only for the diff. Without it (or once
   * it hands over), `git add -A` and `git write-tree` stage them in git's index.
   */
  readonly stage?: NodeStage | null;
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
  /**
   * The staged tree and a pack of exactly the objects it adds to the base commit (whole
   * objects, self-contained), for a non-empty diff.
   */
  readonly tree: { readonly sha: string; readonly pack: Buffer } | null;
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
 * Runs the steps one after another in their images' containers with the workspace at `/work`,
 * then stages the workspace and returns the cumulative diff, the tree and its new objects.
 * Every failure (missing image, exit code, timeout, bad template) is returned as a value.
 */
export async function runSteps(options: RunStepsOptions): Promise<RunStepsResult> {
  const docker = options.docker ?? new Docker();
  const own =
    options.containers ??
    new StepContainers({
      docker,
      workspaceDir: options.workspaceDir,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(userOf(options) ? { user: userOf(options)! } : {}),
    });
  if (own.workspaceDir !== options.workspaceDir) {
    throw new Error(
      `runSteps: the containers mount ${own.workspaceDir}, not ${options.workspaceDir}`,
    );
  }
  try {
    return await runAll(docker, own, options);
  } finally {
    if (!options.containers) await own.removeAll();
  }
}

function userOf(options: RunStepsOptions): string | undefined {
  return (
    options.user ??
    (process.getuid && process.getgid ? `${process.getuid()}:${process.getgid()}` : undefined)
  );
}

async function runAll(
  docker: Docker,
  containers: StepContainers,
  options: RunStepsOptions,
): Promise<RunStepsResult> {
  const path = options.path ?? '';
  const executed: ExecutedStep[] = [];
  const outputs: Record<string, TemplateValue> = {};
  const lastIndex = options.steps.length - 1;
  let tree = options.baseRevision;
  let cumulative: ChangedFiles = NO_FILES;
  let stage = options.stage ?? null;
  // The staged tree after a step: in Node while the workspace allows it, else in git's index.
  const stageStep = async (): Promise<string> => {
    if (stage) {
      const staged = await stage.stage();
      if (staged !== null) return staged;
      stage = null;
    }
    return stageWorkspace(options.workspaceDir);
  };
  // The diff against the base: from the trees when staged in Node (no index), else the index.
  const diffAgainstBase = (staged: string): Promise<StagedDiff> =>
    staged === options.baseRevision
      ? Promise.resolve(EMPTY_DIFF)
      : stagedDiff(options.workspaceDir, options.baseRevision, stage ? staged : undefined);
  // The last step's staging is diffed once against the base: the cumulative files, the patch and the per-file split.
  let final: StagedDiff | null = null;

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
      const run = await runStep(docker, containers, options, step, stepIndex, data, path);
      const nextTree = await stageStep();
      let nextCumulative: ChangedFiles;
      let stepFiles: ChangedFiles;
      if (stepIndex === lastIndex) {
        final = await diffAgainstBase(nextTree);
        nextCumulative = final.files;
        stepFiles =
          tree === options.baseRevision
            ? final.files
            : await changedFiles(options.workspaceDir, tree, nextTree);
      } else {
        stepFiles = await changedFiles(options.workspaceDir, tree, nextTree);
        nextCumulative =
          tree === options.baseRevision
            ? stepFiles
            : await changedFiles(options.workspaceDir, options.baseRevision, nextTree);
      }
      const result: ExecutedStep = {
        stepIndex,
        skipped: false,
        stdout: run.stdout.text(),
        stderr: run.stderr.text(),
        files: stepFiles,
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
          message: !run.containerStopped
            ? `step ${stepIndex + 1} exited with code ${run.exitCode}`
            : run.exitCode === null
              ? `step ${stepIndex + 1} did not finish: its container stopped (PID 1 or the container was killed)`
              : `step ${stepIndex + 1} exited with code ${run.exitCode}: its container stopped (PID 1 or the container was killed)`,
          exitCode: run.exitCode,
          stderrTail: tail(result.stderr),
        });
      }
      tree = nextTree;
      cumulative = nextCumulative;
      Object.assign(outputs, renderOutputs(step, stepIndex, { ...data, step: stepData(result) }));
    } catch (err) {
      if (err instanceof StepFailed) return { ok: false, failure: err.failure, steps: executed };
      throw err;
    }
  }

  // When the last step was skipped, the staged tree is that of the last step that ran.
  if (final === null && tree !== options.baseRevision) {
    final = await diffAgainstBase(tree);
  }
  const diff = final?.diff ?? Buffer.alloc(0);
  return {
    ok: true,
    diff,
    empty: diff.length === 0,
    files: final?.files ?? NO_FILES,
    fileDiffs: final?.fileDiffs ?? [],
    outputs,
    steps: executed,
    tree:
      final && diff.length > 0
        ? {
            sha: tree,
            pack: await newObjectsPack(
              options.workspaceDir,
              tree,
              options.baseRevision,
              final.entries,
            ),
          }
        : null,
  };
}

function tail(text: string): string {
  const buf = Buffer.from(text);
  return buf.length <= STDERR_TAIL_BYTES
    ? text
    : buf.subarray(buf.length - STDERR_TAIL_BYTES).toString('utf8');
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

/**
 * The engine stores a container's Env on disk, so secrets are handed over in a file in memory
 * (/dev/shm) mounted read-only, which a wrapper sources before running the step's script.
 */
function secretsFile(secret: ReadonlyMap<string, string>): string {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  return [...secret].map(([name, value]) => `${name}=${quote(value)}\n`).join('');
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

async function runStep(
  docker: Docker,
  containers: StepContainers,
  options: RunStepsOptions,
  step: Step,
  stepIndex: number,
  data: Record<string, TemplateValue>,
  path: string,
): Promise<ContainerRun> {
  const script = render(step.run, data, stepIndex, 'run');
  const env = resolveEnvironment(step, stepIndex, options.secrets ?? {}, data);
  const filePaths: string[] = [];
  const files: string[] = [];
  for (const [target, content] of Object.entries(step.files ?? {})) {
    const containerPath = posix.resolve('/', target);
    if (containerPath === '/work' || containerPath.startsWith('/work/')) {
      throw new StepFailed({
        reason: 'invalid-files',
        stepIndex,
        message: `step ${stepIndex + 1} files: ${target} is inside the workspace (/work); files are for the container only`,
      });
    }
    // One host file per entry, mounted read-only at its path: the workspace never sees it.
    filePaths.push(containerPath);
    files.push(render(content, data, stepIndex, `files.${target}`));
  }
  const spec: StepContainerSpec = {
    image: step.container,
    filePaths,
    withSecrets: env.secret.size > 0,
  };
  try {
    if (!containers.fits(stepIndex, spec))
      await ensureImage(docker, options, step.container, stepIndex);
  } catch (err) {
    if (err instanceof StepFailed) throw err;
    throw dockerFailure(stepIndex, err);
  }
  let command = ['/bin/sh', '-c', script];
  if (env.secret.size > 0) {
    // `$0` carries the script, so it is not re-quoted.
    command = [
      '/bin/sh',
      '-c',
      `set -a && . ${SECRETS_PATH} && set +a && exec /bin/sh -c "$0"`,
      script,
    ];
  }
  // The engine creates a missing working directory for a new container, not for an exec.
  await mkdir(join(options.workspaceDir, path), { recursive: true });
  try {
    return await containers.run(stepIndex, spec, {
      command,
      env: env.plain,
      workingDir: path ? posix.join('/work', path) : '/work',
      files,
      secrets: env.secret.size > 0 ? secretsFile(env.secret) : null,
      timeoutMs: options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      outputCapBytes: options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
    });
  } catch (err) {
    throw dockerFailure(stepIndex, err);
  }
}

function dockerFailure(stepIndex: number, err: unknown): StepFailed {
  return new StepFailed({
    reason: 'docker',
    stepIndex,
    message: `step ${stepIndex + 1}: the Docker engine refused the step: ${(err as Error).message}`,
  });
}
