import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCaptured as run } from '../test-support/run-captured.js';

describe('campaign new', () => {
  const dir = mkdtempSync(join(tmpdir(), 'campaign-new-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a commented spec skeleton that campaign validate accepts', async () => {
    const r = await run('new', 'say-hello');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^# A campaign spec/);
    expect(r.stdout).toContain('\nname: say-hello\n');
    expect(r.stdout).toContain('  branch: campaigns/say-hello\n');
    const file = join(dir, 'printed.campaign.yaml');
    writeFileSync(file, r.stdout);
    expect(await run('validate', '-f', file)).toEqual({
      code: 0,
      stdout: `${file}: valid campaign spec "say-hello" (1 query, 1 step)\n`,
      stderr: '',
    });
  });

  it('names the campaign my-campaign when no name is given, and prints with -f -', async () => {
    const r = await run('new');
    expect(r.stdout).toContain('\nname: my-campaign\n');
    expect(await run('new', '-f', '-')).toEqual(r);
  });

  it('writes the skeleton with -f FILE, and refuses to overwrite a file', async () => {
    const file = join(dir, 'hello.campaign.yaml');
    const r = await run('new', 'hello', '-f', file);
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `Wrote ${file}: check it with campaign validate -f ${file}\n`,
    });
    expect(readFileSync(file, 'utf8')).toBe((await run('new', 'hello')).stdout);
    expect((await run('validate', '-f', file)).code).toBe(0);

    writeFileSync(file, 'mine\n');
    const again = await run('new', 'hello', '-f', file);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `campaign: new: cannot write ${file}: it exists already (left as it is; choose another name or remove it)\n`,
    });
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('refuses a name a spec cannot have, writing nothing', async () => {
    const file = join(dir, 'bad.campaign.yaml');
    const r = await run('new', 'my campaign', '-f', file);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'campaign: "my campaign" cannot be a campaign name: use letters, digits, ".", "_" and "-"',
    );
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
    // Nor one that would break the YAML around it.
    expect((await run('new', 'x: y')).code).toBe(2);
  });
});
