import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { agentCanRun, MarkedOutput, runScript, shellQuote } from './step-agent.js';

describe('shellQuote', () => {
  it('given values with quotes, dollars and newlines, then the shell reads each back unchanged', () => {
    const values = [`it's`, `"$HOME" $(touch /tmp/x) \`id\``, 'two\nlines', '', "''"];
    const script = values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join('; ');
    const echoed = execFileSync('/bin/sh', ['-c', script]).toString().split('\0').slice(0, -1);
    expect(echoed).toEqual(values);
  });
});

describe('runScript', () => {
  it('given a run, then the script enters its directory, exports its environment and execs its command', () => {
    expect(
      runScript({
        command: ['/bin/sh', '-c', "echo 'hi'"],
        env: ['A=1', 'QUOTED=it=s a "value"'],
        workingDir: '/work/packages/api',
      }),
    ).toBe(
      [
        `cd '/work/packages/api' || exit 126`,
        `export A='1'`,
        `export QUOTED='it=s a "value"'`,
        `exec '/bin/sh' '-c' 'echo '\\''hi'\\'''`,
        '',
      ].join('\n'),
    );
  });
});

describe('agentCanRun', () => {
  it('given only shell variable names, then the agent can run it; given another name, then docker exec must', () => {
    expect(agentCanRun([])).toBe(true);
    expect(agentCanRun(['A=1', '_B2=x=y'])).toBe(true);
    expect(agentCanRun(['A=1', 'NOT-SHELL=1'])).toBe(false);
    expect(agentCanRun(['1ABC=1'])).toBe(false);
  });
});

describe('MarkedOutput', () => {
  const marker = Buffer.from('__campaigns_run_0123__', 'latin1');

  it('given the marker split across chunks, then output before it goes to the tail and what follows is kept apart', () => {
    // Given a stream whose marker arrives in three pieces.
    const out = new MarkedOutput(marker, 1024);
    out.write(Buffer.from('hello\n__campa'));
    expect(out.done).toBe(false);
    out.write(Buffer.from('igns_run_'));
    out.write(Buffer.from('0123__ 3\n'));
    // Then the run's output ends exactly before the marker, and the exit code line follows it.
    expect(out.done).toBe(true);
    expect(out.tail.text()).toBe('hello\n');
    expect(out.after.toString()).toBe(' 3\n');
    // And what arrives later belongs after the marker, not to the run's output.
    out.write(Buffer.from('late'));
    expect(out.after.toString()).toBe(' 3\nlate');
    expect(out.tail.text()).toBe('hello\n');
  });

  it('given output that merely looks like the start of the marker, then nothing of it is lost when the run ends without one', () => {
    const out = new MarkedOutput(marker, 1024);
    out.write(Buffer.from('partial __campaigns'));
    // Held back: it could still become the marker.
    expect(out.tail.text()).not.toContain('__campaigns');
    out.flush();
    expect(out.done).toBe(false);
    expect(out.tail.text()).toBe('partial __campaigns');
  });

  it('given more output than the cap, then only the tail before the marker is kept', () => {
    const out = new MarkedOutput(marker, 4);
    out.write(Buffer.from(`0123456789${marker.toString('latin1')} 0\n`));
    expect(out.tail.text()).toBe('6789');
    expect(out.tail.droppedBytes).toBe(6);
  });
});
