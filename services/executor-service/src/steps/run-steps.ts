import Docker from 'dockerode';
import type {
  ChangedFiles,
  FileDiff,
  Step,
  StepResult,
  TemplateValue,
} from '@campaigns/campaign-spec';
import { runStepInContainer, type ContainerStepOptions } from './run-in-container.js';
import { StepContainers } from './step-containers.js';
import { runFailure, StepFailed, type StepFailure } from './step-failure.js';
import {
  NO_FILES,
  renderStep,
  renderStepOutputs,
  stepCondition,
  stepData,
  stepTemplateData,
} from './step-template.js';
import { newObjectsPack } from './tree-pack.js';
import type { NodeStage } from './node-workspace.js';
import {
  changedFiles,
  EMPTY_DIFF,
  stagedDiff,
  stageWorkspace,
  type StagedDiff,
} from './workspace-diff.js';

export { STDERR_TAIL_BYTES, type StepFailure, type StepFailureReason } from './step-failure.js';

export const DEFAULT_STEP_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;

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

  const timeoutMs = options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const inContainer: ContainerStepOptions = {
    docker,
    containers,
    workspaceDir: options.workspaceDir,
    path,
    timeoutMs,
    outputCapBytes: options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
    pullMissingImages: options.pullMissingImages !== false,
  };

  for (const [stepIndex, step] of options.steps.entries()) {
    const data = stepTemplateData(options.templateData, {
      previous: executed.at(-1),
      cumulative,
      path,
      outputs,
    });
    try {
      if (!stepCondition(step, stepIndex, data)) {
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
      const rendered = renderStep(step, stepIndex, data, options.secrets ?? {});
      const run = await runStepInContainer(inContainer, step.container, stepIndex, rendered);
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
      const failure = runFailure(run, stepIndex, timeoutMs, result.stderr);
      if (failure) throw new StepFailed(failure);
      tree = nextTree;
      cumulative = nextCumulative;
      Object.assign(
        outputs,
        renderStepOutputs(step, stepIndex, { ...data, step: stepData(result) }),
      );
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
