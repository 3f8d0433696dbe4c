import type { StepResults } from '@campaigns/campaign-spec';
import {
  EXECUTION_FAILURE_REASONS,
  ExecutionFailed,
  ExecutionStarted,
  PatchComputed,
  type ExecutionJob,
  type SecretRedactor,
  type StoredEvent,
} from '@campaigns/events';
import type { ExecutedStep, RunStepsResult, StepsSucceeded } from '../steps/index.js';
import type { CachedPatch } from './step-cache.js';

/**
 * Deciding how a job ends, apart from doing it: which result event a delivery records (or that
 * it records none), and in what words. Pure: the runner reads, runs and appends.
 */

const MESSAGE_MAX = 4000;
const STDERR_TAIL_MAX = 8192;

export type FailureReason = (typeof EXECUTION_FAILURE_REASONS)[number];

/** How one delivery of a job ended. */
export type ExecutionOutcome =
  /** The execution already had its result: nothing was done. */
  | { kind: 'skipped' }
  | { kind: 'patch'; cached: boolean; eventId: string }
  | { kind: 'failed'; reason: FailureReason; eventId: string }
  /** Another worker recorded a different result first; ours was not stored. */
  | { kind: 'lost-race' }
  /** The job was handed back (the worker stopped past its deadline); nothing was recorded. */
  | { kind: 'abandoned' }
  /**
   * A later delivery started meanwhile (this worker missed its heartbeats, the job went to
   * another one, which removed this attempt's containers): nothing was recorded, and the
   * message must be neither acknowledged nor nak'ed, since it is the newer delivery's now.
   */
  | { kind: 'superseded' };

export interface Delivery {
  /** How many times the job was delivered, this one included. */
  attempt: number;
  /** The ExecutionQueued event's id, when the message names it. */
  queuedEventId?: string | null;
  /** Aborted when the job was handed back to the queue: its result must not be recorded. */
  abandoned?: AbortSignal;
  /**
   * The last delivery the worker will make. Before it, a failure of the infrastructure (the
   * repository could not be fetched, the Docker engine did not answer) is thrown as a
   * `TransientExecutionError` so the job is retried with backoff; on it, it is recorded.
   */
  lastAttempt?: boolean;
}

/** Infrastructure trouble another delivery may not meet; the worker naks the job. */
export class TransientExecutionError extends Error {
  override readonly name = 'TransientExecutionError';
  constructor(
    readonly reason: 'fetch' | 'docker',
    message: string,
  ) {
    super(message);
  }
}

const TRANSIENT_REASONS: ReadonlySet<string> = new Set(['fetch', 'docker']);

/** Where in the steps a failure happened, for `ExecutionFailed`. */
export interface FailureDetail {
  stepIndex?: number | null;
  exitCode?: number | null;
  stderrTail?: string;
}

/** Why the execution failed: recorded as `ExecutionFailed`, or retried when it may pass. */
export class ExecutionFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly detail: FailureDetail = {},
  ) {
    super(message);
  }
}

/** A result event to append, with the outcome it means (its event id filled in on append). */
export interface ResultEvent {
  readonly type: string;
  readonly data: unknown;
  readonly outcome: ExecutionOutcome;
}

/** Whether the execution's stream already holds its result. */
export function hasResult(history: readonly StoredEvent[]): boolean {
  return history.some((e) => e.type === PatchComputed.type || e.type === ExecutionFailed.type);
}

/** Whether a later delivery than `attempt` has started the execution. */
export function supersededBy(history: readonly StoredEvent[], attempt: number): boolean {
  return history.some(
    (e) => e.type === ExecutionStarted.type && (e.data as { attempt: number }).attempt > attempt,
  );
}

/** Passing trouble before the last delivery is retried instead of recorded. */
export function retryInstead(
  failure: ExecutionFailure,
  delivery: Delivery,
): TransientExecutionError | null {
  return TRANSIENT_REASONS.has(failure.reason) && delivery.lastAttempt !== true
    ? new TransientExecutionError(failure.reason as 'fetch' | 'docker', failure.message)
    : null;
}

/**
 * The steps' result when its patch may be stored; otherwise throws the `ExecutionFailure` it
 * amounts to (a failed step, or a diff that contains a secret).
 */
export function storableRun(run: RunStepsResult, redactor: SecretRedactor): StepsSucceeded {
  if (!run.ok) throw new ExecutionFailure(run.failure.reason, run.failure.message, run.failure);
  if (redactor.occursIn(run.diff)) {
    throw new ExecutionFailure(
      'internal',
      'the steps wrote a secret value into the repository; the diff was not stored',
    );
  }
  return run;
}

/** The steps' results as campaign-spec's `StepResults`, with every secret redacted. */
export function redactedResults(run: StepsSucceeded, redactor: SecretRedactor): StepResults {
  return {
    files: run.files,
    fileDiffs: run.fileDiffs,
    outputs: redactor.value(run.outputs),
    steps: run.steps.map((s) => ({
      stepIndex: s.stepIndex,
      skipped: s.skipped,
      stdout: redactor.text(s.stdout),
      stderr: redactor.text(s.stderr),
      files: s.files,
    })),
  };
}

/** The fields of a patch that are not blobs: its files and how each step ended. */
export function patchSummary(run: StepsSucceeded): Pick<CachedPatch, 'files' | 'steps'> {
  return {
    files: {
      modified: [...run.files.modified],
      added: [...run.files.added],
      deleted: [...run.files.deleted],
      renamed: [...run.files.renamed],
    },
    steps: run.steps.map(stepSummary),
  };
}

function stepSummary(s: ExecutedStep): CachedPatch['steps'][number] {
  return {
    stepIndex: s.stepIndex,
    skipped: s.skipped,
    exitCode: s.exitCode,
    durationMs: s.durationMs,
  };
}

/** `PatchComputed` for the job, from a patch just computed or found in the step cache. */
export function patchComputed(job: ExecutionJob, patch: CachedPatch, cached: boolean): ResultEvent {
  return {
    type: PatchComputed.type,
    data: {
      executionId: job.executionId,
      campaign: job.campaign,
      applyId: job.applyId,
      workspace: job.workspace,
      empty: patch.empty,
      diff: patch.empty ? null : patch.diff,
      results: patch.results,
      files: patch.files,
      steps: patch.steps,
      cached,
      ...(patch.tree && !patch.empty ? { tree: patch.tree } : {}),
    },
    outcome: { kind: 'patch', cached, eventId: '' },
  };
}

/** `ExecutionFailed` for the job: message and stderr tail redacted and cut to their limits. */
export function executionFailed(
  job: ExecutionJob,
  failure: Pick<ExecutionFailure, 'reason' | 'message' | 'detail'>,
  redactor: SecretRedactor,
): ResultEvent {
  const { reason, detail } = failure;
  const tail = redactor.text(detail.stderrTail ?? '');
  return {
    type: ExecutionFailed.type,
    data: {
      executionId: job.executionId,
      campaign: job.campaign,
      applyId: job.applyId,
      repository: job.workspace.repository,
      path: job.workspace.path,
      reason,
      stepIndex: detail.stepIndex ?? null,
      exitCode: detail.exitCode ?? null,
      message: truncate(redactor.text(failure.message), MESSAGE_MAX),
      stderrTail: tail.length > STDERR_TAIL_MAX ? tail.slice(-STDERR_TAIL_MAX) : tail,
    },
    outcome: { kind: 'failed', reason, eventId: '' },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
