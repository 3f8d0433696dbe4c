import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { runCaptured as run } from '../test-support/run-captured.js';
import type { ValidateJsonOutput } from './validate.command.js';

const examples = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'campaign-validate-'));

function specFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('campaign validate', () => {
  it('exits 0 with a one-line summary for a valid spec', async () => {
    const file = join(examples, 'hello-world.campaign.yaml');
    expect(await run('validate', '-f', file)).toEqual({
      code: 0,
      stdout: `${file}: valid campaign spec "hello-world" (1 query, 1 step)\n`,
      stderr: '',
    });
  });

  it('exits 1 naming the line, column and suggestion of a typo in a key', async () => {
    const file = specFile('typo.yaml', 'name: x\nchagesetTemplate:\n  title: t\n');
    expect(await run('validate', '-f', file)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `${file}:2:1: unknown key "chagesetTemplate"; did you mean "changesetTemplate"?\n` +
        `${file}: invalid campaign spec: 1 error\n`,
    });
  });

  it('prints every error and warning, in file order, and still exits 0 with warnings only', async () => {
    const file = specFile(
      'warned.yaml',
      'name: x\non:\n  - repositoriesMatchingQuery: foo(:[x]) patterntype:structural\n',
    );
    const r = await run('validate', '-f', file);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`^${file}:3:42: warning: in the query: patterntype:structural is approximated`),
    );
    expect(r.stdout).toBe(`${file}: valid campaign spec "x" (1 query), 1 warning\n`);
  });

  it('with --json prints errors, warnings and the summary as one JSON object on stdout', async () => {
    const file = specFile('bad.yaml', 'name: bad name\nsteps: [{run: echo}]\n');
    const r = await run('validate', '--json', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const output = JSON.parse(r.stdout) as ValidateJsonOutput;
    expect(output).toEqual({
      file,
      valid: false,
      summary: `${file}: invalid campaign spec: 3 errors`,
      errors: [
        {
          line: 1,
          column: 7,
          message: expect.stringContaining('name may contain only'),
          path: ['name'],
        },
        {
          line: 2,
          column: 1,
          message: expect.stringContaining('needs a changesetTemplate'),
          path: ['steps'],
        },
        {
          line: 2,
          column: 9,
          message: 'steps[0] is missing the required key "container"',
          path: ['steps', 0],
        },
      ],
      warnings: [],
    });
  });

  it('exits 2 when the file cannot be read', async () => {
    const missing = join(scratch, 'missing.yaml');
    expect(await run('validate', '-f', missing)).toEqual({
      code: 2,
      stdout: '',
      stderr: `campaign validate: cannot read ${missing}: no such file\n`,
    });
    expect((await run('validate', '-f', scratch)).stderr).toBe(
      `campaign validate: cannot read ${scratch}: it is a directory\n`,
    );
  });

  it('exits 2 with its usage when the arguments are wrong', async () => {
    for (const argv of [
      ['validate'],
      ['validate', '-f'],
      ['validate', 'spec.yaml'],
      ['validate', '-f', 'a', '-f', 'b'],
    ]) {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Usage: campaign validate -f FILE [-o json|yaml]');
    }
  });

  it('refuses a spec over 1 MiB without reading it', async () => {
    const file = specFile('huge.yaml', `name: x\ndescription: ${'a'.repeat(1024 * 1024)}\n`);
    const r = await run('validate', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:1:1: the spec is 1048598 bytes; the limit is 1048576 bytes (1 MiB)`,
    );
  });
});

describe('campaign schema', () => {
  it('prints the JSON Schema', async () => {
    const r = await run('schema');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'CampaignSpec',
      required: ['name'],
    });
  });

  it('takes no arguments', async () => {
    expect((await run('schema', 'x')).code).toBe(2);
  });
});
