/** How much of the failing step's stderr a failure carries. */
export const STDERR_TAIL_BYTES = 4096;

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

/** Carries a step's failure out of the step loop, which returns it as a value. */
export class StepFailed extends Error {
  constructor(readonly failure: StepFailure) {
    super(failure.message);
  }
}

/** How a step's run in its container ended, as far as deciding its failure goes. */
export interface StepRunEnd {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The container stopped while the step ran (its PID 1 or the container was killed). */
  readonly containerStopped: boolean;
}

/** The failure a finished run amounts to, or null when the step succeeded. */
export function runFailure(
  run: StepRunEnd,
  stepIndex: number,
  timeoutMs: number,
  stderr: string,
): StepFailure | null {
  if (run.timedOut) {
    return {
      reason: 'timeout',
      stepIndex,
      message: `step ${stepIndex + 1} did not finish within ${timeoutMs} ms and was killed`,
      timeoutMs,
      stderrTail: stderrTail(stderr),
    };
  }
  if (run.exitCode === 0) return null;
  return {
    reason: 'command-failed',
    stepIndex,
    message: !run.containerStopped
      ? `step ${stepIndex + 1} exited with code ${run.exitCode}`
      : run.exitCode === null
        ? `step ${stepIndex + 1} did not finish: its container stopped (PID 1 or the container was killed)`
        : `step ${stepIndex + 1} exited with code ${run.exitCode}: its container stopped (PID 1 or the container was killed)`,
    exitCode: run.exitCode,
    stderrTail: stderrTail(stderr),
  };
}

/** The Docker engine refused something the step needed. */
export function dockerFailure(stepIndex: number, err: unknown): StepFailed {
  return new StepFailed({
    reason: 'docker',
    stepIndex,
    message: `step ${stepIndex + 1}: the Docker engine refused the step: ${(err as Error).message}`,
  });
}

/** The last STDERR_TAIL_BYTES of the text (a character cut at the start becomes U+FFFD). */
export function stderrTail(text: string): string {
  const buf = Buffer.from(text);
  return buf.length <= STDERR_TAIL_BYTES
    ? text
    : buf.subarray(buf.length - STDERR_TAIL_BYTES).toString('utf8');
}
