import { describe, expect, it } from '@jest/globals';
import {
  ExecutionFailed,
  ExecutionStarted,
  PatchComputed,
  SecretRedactor,
  type ExecutionJob,
  type StoredEvent,
} from '@campaigns/events';
import type { ExecutedStep, StepsFailed, StepsSucceeded } from '../steps/index.js';
import {
  ExecutionFailure,
  executionFailed,
  hasResult,
  patchComputed,
  patchSummary,
  redactedResults,
  retryInstead,
  storableRun,
  supersededBy,
  TransientExecutionError,
} from './execution-outcome.js';
import type { CachedPatch } from './step-cache.js';

const SECRET = 'ghp_secret_value_0123456789';
const redactor = new SecretRedactor([SECRET]);

const job: ExecutionJob = {
  executionId: 'a'.repeat(32),
  campaign: 'hello-world',
  applyId: '00000000-0000-4000-8000-000000000001',
  specHash: 'b'.repeat(64),
  workspace: {
    repository: 'example.com/acme/api',
    branch: 'main',
    baseRevision: 'c'.repeat(40),
    path: '',
    searchResultPaths: [],
  },
};

function event(type: string, data: unknown = {}): StoredEvent {
  return { type, data } as StoredEvent;
}

const files = { modified: ['README.md'], added: [], deleted: [], renamed: [] };

function executed(extra: Partial<ExecutedStep> = {}): ExecutedStep {
  return {
    stepIndex: 0,
    skipped: false,
    stdout: '',
    stderr: '',
    files,
    exitCode: 0,
    durationMs: 12,
    droppedStdoutBytes: 0,
    droppedStderrBytes: 0,
    ...extra,
  };
}

function succeeded(extra: Partial<StepsSucceeded> = {}): StepsSucceeded {
  return {
    ok: true,
    diff: Buffer.from('diff --git a/README.md b/README.md\n+hello\n'),
    empty: false,
    files,
    fileDiffs: [],
    outputs: {},
    steps: [executed()],
    tree: null,
    ...extra,
  };
}

describe('hasResult and supersededBy', () => {
  it('given a stream with PatchComputed or ExecutionFailed, then the execution has its result', () => {
    expect(hasResult([event('ExecutionQueued'), event(ExecutionStarted.type)])).toBe(false);
    expect(hasResult([event('ExecutionQueued'), event(PatchComputed.type)])).toBe(true);
    expect(hasResult([event(ExecutionFailed.type)])).toBe(true);
  });

  it('given a later attempt started, then the earlier delivery is superseded, and only then', () => {
    const history = [
      event(ExecutionStarted.type, { attempt: 1 }),
      event(ExecutionStarted.type, { attempt: 2 }),
    ];
    expect(supersededBy(history, 1)).toBe(true);
    expect(supersededBy(history, 2)).toBe(false);
  });
});

describe('retryInstead', () => {
  it('given passing trouble before the last delivery, then the job is retried, not recorded', () => {
    const retry = retryInstead(new ExecutionFailure('fetch', 'cannot fetch'), { attempt: 1 });
    expect(retry).toBeInstanceOf(TransientExecutionError);
    expect(retry).toMatchObject({ reason: 'fetch', message: 'cannot fetch' });
    expect(retryInstead(new ExecutionFailure('docker', 'no engine'), { attempt: 2 })).toMatchObject(
      { reason: 'docker' },
    );
  });

  it('given the last delivery, or a failure another delivery would meet too, then it is recorded', () => {
    const docker = new ExecutionFailure('docker', 'no engine');
    expect(retryInstead(docker, { attempt: 5, lastAttempt: true })).toBeNull();
    expect(
      retryInstead(new ExecutionFailure('command-failed', 'exit 1'), { attempt: 1 }),
    ).toBeNull();
    expect(retryInstead(new ExecutionFailure('internal', 'no spec'), { attempt: 1 })).toBeNull();
  });
});

/** The failure an action throws. */
function failureOf(action: () => unknown): ExecutionFailure {
  try {
    action();
  } catch (err) {
    if (err instanceof ExecutionFailure) return err;
    throw err;
  }
  throw new Error('expected an ExecutionFailure');
}

describe('storableRun', () => {
  it('given steps that succeeded without a secret in the diff, then the run is stored as it is', () => {
    const run = succeeded();
    expect(storableRun(run, redactor)).toBe(run);
  });

  it('given a failed step, then it becomes the execution failure with its step, exit code and tail', () => {
    const run: StepsFailed = {
      ok: false,
      failure: {
        reason: 'command-failed',
        stepIndex: 1,
        message: 'step 2 exited with code 3',
        exitCode: 3,
        stderrTail: 'broke\n',
      },
      steps: [],
    };
    expect(failureOf(() => storableRun(run, redactor))).toMatchObject({
      reason: 'command-failed',
      message: 'step 2 exited with code 3',
      detail: { stepIndex: 1, exitCode: 3, stderrTail: 'broke\n' },
    });
  });

  it('given a diff that contains a secret, then nothing is stored and the failure is internal', () => {
    const run = succeeded({ diff: Buffer.from(`+token=${SECRET}\n`) });
    expect(failureOf(() => storableRun(run, redactor))).toMatchObject({
      reason: 'internal',
      message: 'the steps wrote a secret value into the repository; the diff was not stored',
    });
  });
});

describe('redactedResults and patchSummary', () => {
  it('given output and outputs that quote a secret, then the stored results never hold it', () => {
    const run = succeeded({
      outputs: { token: SECRET, nested: { [SECRET]: [SECRET] } },
      steps: [executed({ stdout: `out ${SECRET}\n`, stderr: `err ${SECRET}\n` })],
    });
    const results = redactedResults(run, redactor);
    expect(JSON.stringify(results)).not.toContain(SECRET);
    expect(results.outputs).toEqual({
      token: '[redacted]',
      nested: { '[redacted]': ['[redacted]'] },
    });
    expect(results.steps).toEqual([
      {
        stepIndex: 0,
        skipped: false,
        stdout: 'out [redacted]\n',
        stderr: 'err [redacted]\n',
        files,
      },
    ]);
  });

  it("given a run, then the summary keeps each step's end and a copy of the files", () => {
    const run = succeeded({ steps: [executed(), executed({ stepIndex: 1, skipped: true })] });
    const summary = patchSummary(run);
    expect(summary.steps).toEqual([
      { stepIndex: 0, skipped: false, exitCode: 0, durationMs: 12 },
      { stepIndex: 1, skipped: true, exitCode: 0, durationMs: 12 },
    ]);
    expect(summary.files).toEqual(files);
    expect(summary.files.modified).not.toBe(files.modified);
  });
});

describe('patchComputed', () => {
  const blob = { sha256: 'd'.repeat(64), size: 10 };
  const tree = { sha: 'e'.repeat(40), objects: blob };
  const patch: CachedPatch = {
    empty: false,
    diff: blob,
    results: blob,
    files,
    steps: [{ stepIndex: 0, skipped: false, exitCode: 0, durationMs: 12 }],
    tree,
  };

  it('given a computed patch, then PatchComputed carries it, its tree, and whether it was cached', () => {
    const result = patchComputed(job, patch, true);
    expect(PatchComputed.schema.parse(result.data)).toMatchObject({
      diff: blob,
      tree,
      cached: true,
    });
    expect(result.outcome).toEqual({ kind: 'patch', cached: true, eventId: '' });
  });

  it('given an empty patch, then it has neither diff nor tree', () => {
    const data = PatchComputed.schema.parse(
      patchComputed(job, { ...patch, empty: true }, false).data,
    );
    expect(data.diff).toBeNull();
    expect(data.tree).toBeUndefined();
  });
});

describe('executionFailed', () => {
  it('given a failure whose message and stderr quote a secret, then the event holds neither', () => {
    const result = executionFailed(
      job,
      new ExecutionFailure('command-failed', `step 1 printed ${SECRET}`, {
        stepIndex: 0,
        exitCode: 2,
        stderrTail: `leak ${SECRET}\n`,
      }),
      redactor,
    );
    const data = ExecutionFailed.schema.parse(result.data);
    expect(data).toMatchObject({
      reason: 'command-failed',
      repository: 'example.com/acme/api',
      stepIndex: 0,
      exitCode: 2,
      message: 'step 1 printed [redacted]',
      stderrTail: 'leak [redacted]\n',
    });
    expect(result.outcome).toEqual({ kind: 'failed', reason: 'command-failed', eventId: '' });
  });

  it('given a message and a tail beyond the event limits, then they are cut to fit, the tail from its end', () => {
    const result = executionFailed(
      job,
      new ExecutionFailure('internal', 'm'.repeat(5000), { stderrTail: `${'x'.repeat(9000)}end` }),
      redactor,
    );
    const data = ExecutionFailed.schema.parse(result.data);
    expect(data.message).toHaveLength(4000);
    expect(data.message.endsWith('…')).toBe(true);
    expect(data.stderrTail).toHaveLength(8192);
    expect(data.stderrTail.endsWith('end')).toBe(true);
    expect(data).toMatchObject({ stepIndex: null, exitCode: null });
  });
});
