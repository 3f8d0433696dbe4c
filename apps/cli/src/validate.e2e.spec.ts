import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

// Runs the built binary (build first: npx tsc -b tsconfig.json, or npm run build).
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'campaign-e2e-'));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function campaign(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('campaign validate, as a program', () => {
  it('accepts the canonical example: exit 0 and one line', async () => {
    expect(await campaign('validate', '-f', 'examples/hello-world.campaign.yaml')).toEqual({
      code: 0,
      stdout:
        'examples/hello-world.campaign.yaml: valid campaign spec "hello-world" (1 query, 1 step)\n',
      stderr: '',
    });
  });

  it('refuses a typo: exit 1 with FILE:LINE:COL and the suggestion, no stack trace', async () => {
    const file = join(scratch, 'typo.yaml');
    writeFileSync(file, 'name: hello\non: []\nchagesetTemplate:\n  title: t\n');
    const r = await campaign('validate', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${file}:3:1: unknown key "chagesetTemplate"; did you mean "changesetTemplate"?\n${file}: invalid campaign spec: 1 error\n`,
    );
  });

  it('prints JSON with --json, exit code unchanged', async () => {
    const ok = await campaign('validate', '-f', 'examples/track-existing.campaign.yaml', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      file: 'examples/track-existing.campaign.yaml',
      valid: true,
      summary:
        'examples/track-existing.campaign.yaml: valid campaign spec "track-security-fixes" (3 changesets to track)',
      errors: [],
      warnings: [],
    });
    const file = join(scratch, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    const bad = await campaign('validate', '--json', '-f', file);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      valid: false,
      errors: [{ line: expect.any(Number), column: expect.any(Number) }],
    });
  });

  it('exits 2 when the file cannot be read or the arguments are wrong', async () => {
    const unreadable = await campaign('validate', '-f', join(scratch, 'nope.yaml'));
    expect(unreadable).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('cannot read'),
    });
    expect(await campaign('validate', '--frobnicate')).toMatchObject({ code: 2 });
  });

  it('prints the JSON Schema with campaign schema', async () => {
    const r = await campaign('schema');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'CampaignSpec' });
  });
});
