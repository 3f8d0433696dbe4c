import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

// Runs the built binary, as `npm test` builds before testing.
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('campaign binary', () => {
  it('runs as a program and sets its exit code', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'version']);
    expect(stdout).toMatch(/^campaign \d+\.\d+\.\d+\n$/);
    const failed = await promisify(execFile)(process.execPath, [bin, 'nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "nope"'),
    });
  });
});
