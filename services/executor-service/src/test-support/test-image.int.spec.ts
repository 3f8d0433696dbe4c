import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureTestImage } from './test-image.js';

const run = promisify(execFile);

describe('ensureTestImage', () => {
  const image = `campaigns-test/busybox:race-${process.pid}`;
  afterAll(async () => {
    await run('docker', ['rmi', '--force', image]).catch(() => undefined);
  });

  it('builds a missing image when two callers race, both succeed, and the image has /bin/sh and /work', async () => {
    await Promise.all([ensureTestImage(image), ensureTestImage(image)]);

    const { stdout } = await run('docker', [
      'run',
      '--rm',
      image,
      '/bin/sh',
      '-c',
      'echo "$((6 * 7))"; test -d /work && test -d /tmp',
    ]);
    expect(stdout).toBe('42\n');
  });
});
