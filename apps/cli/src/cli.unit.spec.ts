import { describe, expect, it } from '@jest/globals';
import { runCaptured as run } from './test-support/run-captured.js';

describe('campaign CLI', () => {
  it('prints the version from the package', async () => {
    const r = await run('version');
    expect(r).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^campaign \d+\.\d+\.\d+\n$/),
      stderr: '',
    });
    expect((await run('--version')).stdout).toBe(r.stdout);
  });

  it('lists its commands on help, and exits 2 when called with none', async () => {
    expect(await run('help')).toEqual({
      code: 0,
      stdout: expect.stringContaining('version'),
      stderr: '',
    });
    expect((await run()).code).toBe(2);
    expect((await run('help', 'version')).stdout).toContain('Usage: campaign version');
  });

  it('answers an unknown command with one line, a suggestion and exit code 2', async () => {
    const r = await run('verison');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'campaign: unknown command "verison". Did you mean "version"? Run "campaign help" for the list of commands.\n',
    );
  });

  it('reports a misused command with its usage, not a stack trace', async () => {
    const r = await run('version', 'extra');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'campaign: version takes no arguments (got extra)\nUsage: campaign version\n',
    );
  });
});

describe('campaign -n/--namespace', () => {
  it.each([
    [['status', 'hello-world', '-n', 'no/slash'], '"no/slash" is not a namespace'],
    [['list', '-n', 'a', '--namespace', 'b'], '--namespace is given twice'],
    [['audit', 'alice/hello-world', '-n', 'bob'], '"alice/hello-world" is not in namespace bob'],
  ])('%j: exit 2, one line saying what is wrong, nothing sent', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
