import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// Runs the built binary, as `npm test` builds before testing.
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the CLI with its stdout's reading end already closed, as `| head -1` leaves it. */
function runIntoClosedPipe(...argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('campaign writing into a closed pipe', () => {
  it('exits 0 without a word on stderr when the reader stops early (EPIPE)', async () => {
    // The schema is printed in one write: it meets the closed pipe.
    expect(await runIntoClosedPipe('schema')).toEqual({ code: 0, stderr: '' });
    expect(await runIntoClosedPipe('apply', '--help')).toEqual({ code: 0, stderr: '' });
  });
});
