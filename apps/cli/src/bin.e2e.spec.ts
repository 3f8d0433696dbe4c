import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';

const cliRoot = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = resolve(cliRoot, '../..');
const pkg = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};

// `npm ci` links a workspace's bin only when its target exists, and it runs before any build: the
// bin must be a committed file, not something in dist/.
describe('the campaign bin', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'campaign-bin-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is a committed, executable file outside dist/ that package.json names', () => {
    const bin = pkg.bin['campaign'];
    expect(bin).toBe('./bin/campaign.mjs');
    const file = join(cliRoot, bin!);
    accessSync(file, constants.X_OK);
    expect(readFileSync(file, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('is what npm linked as node_modules/.bin/campaign, so npx finds it and not a registry package', () => {
    expect(realpathSync(join(repoRoot, 'node_modules/.bin/campaign'))).toBe(
      realpathSync(join(cliRoot, 'bin/campaign.mjs')),
    );
  });

  it('is what `npx campaign` runs from the repository root, installing nothing', async () => {
    // --no: npx may not install a package of that name from the registry instead.
    const { stdout } = await promisify(execFile)('npx', ['--no', '--', 'campaign', '--help'], {
      cwd: repoRoot,
    });
    expect(stdout).toMatch(/^Usage: campaign <command>/);
  });

  it('runs the built CLI: --help lists the commands', async () => {
    const { stdout } = await promisify(execFile)(join(cliRoot, 'bin/campaign.mjs'), ['--help']);
    expect(stdout).toMatch(/^Usage: campaign /m);
    expect(stdout).toMatch(/^ {2}apply\b/m);
  });

  it('says in one line to build first when dist/ is missing, and exits 2', async () => {
    // A copy of the package without its build: the bin alone.
    const bin = join(scratch, 'cli', 'bin', 'campaign.mjs');
    mkdirSync(dirname(bin), { recursive: true });
    copyFileSync(join(cliRoot, 'bin/campaign.mjs'), bin);
    const failed = await promisify(execFile)(process.execPath, [bin, '--help']).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'campaign: the CLI is not built yet: run `npm run build` at the repository root, then try again\n',
    });
  });
});
