import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MAX_SPEC_BYTES } from '@campaigns/campaign-spec';
import { runCaptured as run } from '../test-support/run-captured.js';
import { readSpecFile, readSpecText } from './spec-file.js';
import { CliFailure } from './spec-service-client.js';

const scratch = mkdtempSync(join(tmpdir(), 'campaign-spec-file-'));
let fifos = 0;

/**
 * A named pipe that a writer fills with up to `total` bytes of YAML comments, 64 KiB at a time,
 * until the reader closes it. `written` resolves, once the writer has stopped, to what it wrote.
 */
function pipeOf(total: number): { path: string; written: Promise<number> } {
  const path = join(scratch, `spec-${++fifos}.fifo`);
  execFileSync('mkfifo', [path]);
  const chunk = Buffer.from(`#${'x'.repeat(64 * 1024 - 2)}\n`);
  const written = new Promise<number>((resolve) => {
    const out = createWriteStream(path);
    let bytes = 0;
    const next = (): void => {
      while (bytes < total) {
        bytes += chunk.length;
        if (!out.write(chunk)) return void out.once('drain', next);
      }
      out.end();
    };
    // The reader closing the pipe early is an EPIPE: the writer stops there.
    out.on('error', () => resolve(out.bytesWritten));
    out.on('close', () => resolve(out.bytesWritten));
    out.once('open', next);
  });
  return { path, written };
}

/** The pipe's own buffer, our read chunk and the writer's chunk in flight, with room to spare. */
const READ_PAST_LIMIT = 4 * 64 * 1024;

describe('reading a spec from a pipe', () => {
  it('reads a spec that ends within the limit, as from a file', async () => {
    const pipe = pipeOf(64 * 1024);
    expect(await readSpecFile(pipe.path)).toEqual({ text: expect.stringMatching(/^#x+\n$/) });
    expect(await pipe.written).toBe(64 * 1024);
  });

  it('stops reading a pipe at the size limit for apply and preview: a FILE:1:1 error, exit 1', async () => {
    const pipe = pipeOf(16 * MAX_SPEC_BYTES);
    const failure = await readSpecText('apply', pipe.path).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(CliFailure);
    expect(failure).toMatchObject({
      message: `${pipe.path}:1:1: the spec is more than ${MAX_SPEC_BYTES} bytes (reading stopped there); the limit is ${MAX_SPEC_BYTES} bytes (1 MiB). Move large file contents into the step's container image or split the campaign`,
      exitCode: 1,
    });
    // Read to the end, the pipe would have taken all 16 MiB.
    expect(await pipe.written).toBeLessThanOrEqual(MAX_SPEC_BYTES + READ_PAST_LIMIT);
  });

  it('stops reading a pipe at the size limit for validate, which exits 1 with the error', async () => {
    const pipe = pipeOf(16 * MAX_SPEC_BYTES);
    const r = await run('validate', '-f', pipe.path);

    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(`^${pipe.path}:1:1: the spec is more than ${MAX_SPEC_BYTES} bytes`),
      ),
    });
    expect(await pipe.written).toBeLessThanOrEqual(MAX_SPEC_BYTES + READ_PAST_LIMIT);
  });
});
