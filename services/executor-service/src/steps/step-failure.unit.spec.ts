import { describe, expect, it } from '@jest/globals';
import { dockerFailure, runFailure, STDERR_TAIL_BYTES, stderrTail } from './step-failure.js';

describe('runFailure', () => {
  const ended = { exitCode: 0, timedOut: false, containerStopped: false };

  it('given a run that exited 0, then the step succeeded', () => {
    expect(runFailure(ended, 0, 1000, 'warnings are fine\n')).toBeNull();
  });

  it('given a run that timed out, then it is a timeout naming the limit, whatever its exit code', () => {
    expect(runFailure({ ...ended, exitCode: null, timedOut: true }, 1, 2000, 'before\n')).toEqual({
      reason: 'timeout',
      stepIndex: 1,
      message: 'step 2 did not finish within 2000 ms and was killed',
      timeoutMs: 2000,
      stderrTail: 'before\n',
    });
  });

  it('given a non-zero exit, then the command failed with its exit code and stderr tail', () => {
    expect(runFailure({ ...ended, exitCode: 3 }, 0, 1000, 'something broke\n')).toEqual({
      reason: 'command-failed',
      stepIndex: 0,
      message: 'step 1 exited with code 3',
      exitCode: 3,
      stderrTail: 'something broke\n',
    });
  });

  it('given a container that stopped under the step, then the message says so, with or without an exit code', () => {
    const stopped = { ...ended, containerStopped: true };
    expect(runFailure({ ...stopped, exitCode: 137 }, 0, 1000, '')?.message).toBe(
      'step 1 exited with code 137: its container stopped (PID 1 or the container was killed)',
    );
    expect(runFailure({ ...stopped, exitCode: null }, 0, 1000, '')).toMatchObject({
      reason: 'command-failed',
      exitCode: null,
      message: 'step 1 did not finish: its container stopped (PID 1 or the container was killed)',
    });
  });
});

describe('stderrTail', () => {
  it('given stderr longer than the tail, then only its last bytes are kept', () => {
    const text = `${'x'.repeat(10_000)}the end\n`;
    const tail = stderrTail(text);
    expect(Buffer.byteLength(tail)).toBe(STDERR_TAIL_BYTES);
    expect(tail.endsWith('the end\n')).toBe(true);
    expect(stderrTail('short\n')).toBe('short\n');
  });
});

describe('dockerFailure', () => {
  it('given an engine error, then the step fails as docker trouble quoting the engine', () => {
    expect(dockerFailure(2, new Error('connect ENOENT /var/run/docker.sock')).failure).toEqual({
      reason: 'docker',
      stepIndex: 2,
      message: 'step 3: the Docker engine refused the step: connect ENOENT /var/run/docker.sock',
    });
  });
});
