import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessPool } from './process-pool.js';

/** Real `/bin/sh` helpers running real commands; nothing is mocked. */
describe('ProcessPool', () => {
  let dir: string;
  let helpers: string;
  let pool: ProcessPool;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'process-pool-test-'));
    helpers = mkdtempSync(join(tmpdir(), 'process-pool-helpers-'));
    pool = new ProcessPool({
      env: { PATH: process.env.PATH, BASE: 'from-pool' },
      max: 2,
      tmpDir: helpers,
    });
  });

  afterAll(() => {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(helpers, { recursive: true, force: true });
  });

  it('runs a command in its directory with the pool environment and its additions, and returns stdout', async () => {
    const r = await pool.run(
      'sh',
      ['-c', 'printf "%s|%s|%s|%s" "$PWD" "$BASE" "$EXTRA" "$1"', 'sh', `it's "quoted" $HOME`],
      {
        cwd: dir,
        env: { EXTRA: 'a b  c' },
      },
    );
    expect(r).toEqual({
      code: 0,
      stdout: Buffer.from(`${dir}|from-pool|a b  c|it's "quoted" $HOME`),
      stderr: Buffer.alloc(0),
    });
    // An addition is for that command only.
    const next = await pool.run('sh', ['-c', 'printf "%s" "${EXTRA-unset}"'], { cwd: dir });
    expect(next.stdout.toString()).toBe('unset');
  });

  it('passes input, keeps binary output intact, and reads stderr back on failure', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    const echoed = await pool.run('cat', [], { cwd: dir, input: bytes });
    expect(echoed.code).toBe(0);
    expect(echoed.stdout.equals(bytes)).toBe(true);

    const failed = await pool.run('sh', ['-c', 'echo out; echo "went wrong" >&2; exit 3'], {
      cwd: dir,
    });
    expect(failed).toEqual({
      code: 3,
      stdout: Buffer.from('out\n'),
      stderr: Buffer.from('went wrong\n'),
    });
    const quiet = await pool.run('sh', ['-c', 'echo noise >&2'], { cwd: dir });
    expect(quiet.stderr.length).toBe(0);
    const kept = await pool.run('sh', ['-c', 'echo noise >&2'], { cwd: dir, stderr: 'always' });
    expect(kept.stderr.toString()).toBe('noise\n');
    const file = join(dir, 'input-file');
    writeFileSync(file, 'from a file');
    for (const run of [{}, { timeoutMs: 10_000 }]) {
      const fromFile = await pool.run('cat', [], { cwd: dir, inputFile: file, ...run });
      expect(fromFile.stdout.toString()).toBe('from a file');
    }
    expect(readFileSync(file, 'utf8')).toBe('from a file');
    const ignored = await pool.run('sh', ['-c', 'echo out'], { cwd: dir, stdout: 'ignore' });
    expect(ignored.stdout.length).toBe(0);
  });

  it('reports a missing command, a missing directory and a killed command as statuses', async () => {
    const missing = await pool.run('no-such-command-anywhere', [], { cwd: dir });
    expect(missing.code).toBe(127);
    expect(missing.stderr.toString()).toMatch(/not found/);
    const nowhere = await pool.run('true', [], { cwd: join(dir, 'absent') });
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.stderr.toString()).toMatch(/absent/);
    const killed = await pool.run('sh', ['-c', 'kill -9 $$'], { cwd: dir });
    expect(killed.code).toBe(128 + 9);
  });

  it('runs values a line cannot carry, and timed commands, by spawning them directly', async () => {
    const r = await pool.run('printf', ['%s', 'two\nlines'], { cwd: dir, env: { X: 'y\nz' } });
    expect(r.stdout.toString()).toBe('two\nlines');
    const slow = await pool.run('sleep', ['5'], { cwd: dir, timeoutMs: 100 });
    expect(slow.code).toBe(128 + 15);
  });

  it('runs more commands than helpers at once, each with its own output', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.run('sh', ['-c', `sleep 0.0${i % 3}; printf ${i}`], { cwd: dir }),
      ),
    );
    expect(results.map((r) => r.stdout.toString())).toEqual(
      Array.from({ length: 12 }, (_, i) => String(i)),
    );
    // Never more helpers than `max`, each with its own private directory.
    const made = readdirSync(helpers);
    expect(made.length).toBeLessThanOrEqual(2);
    for (const d of made)
      expect(
        execFileSync('stat', ['-c', '%a', join(helpers, d)])
          .toString()
          .trim(),
      ).toBe('700');
  });

  it('keeps environment values out of every argument list', async () => {
    const secret = `canary-${Date.now()}`;
    const r = await pool.run(
      'sh',
      [
        '-c',
        'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done; printf "%s" "$TOKEN" > seen',
      ],
      { cwd: dir, env: { TOKEN: secret } },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('process-pool');
    expect(r.stdout.toString()).not.toContain(secret);
    expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe(secret);
    // Input is removed once its command has run.
    expect(readdirSync(helpers).some((d) => existsSync(join(helpers, d, 'in')))).toBe(false);
  });

  it('a helper that dies fails its command; the next command gets a new helper', async () => {
    const own = new ProcessPool({ env: { PATH: process.env.PATH }, max: 1, tmpDir: helpers });
    try {
      const r = await own.run('sh', ['-c', 'kill -9 $PPID; sleep 1'], { cwd: dir }).then(
        () => 'resolved',
        (err: Error) => err.message,
      );
      expect(r).toMatch(/process-pool helper/);
      expect((await own.run('printf', ['again'], { cwd: dir })).stdout.toString()).toBe('again');
    } finally {
      own.close();
    }
  });

  it('an idle pool does not keep its process alive', async () => {
    const script = join(dir, 'idle.mjs');
    writeFileSync(
      script,
      `import { ProcessPool } from ${JSON.stringify(join(__dirnameOf(), 'process-pool.ts'))};
       const pool = new ProcessPool({ env: { PATH: process.env.PATH } });
       const r = await pool.run('printf', ['done'], { cwd: '/' });
       process.stdout.write(r.stdout);`,
    );
    const out = await new Promise<string>((resolve, reject) =>
      execFile('node', ['--import', 'tsx', script], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    expect(out).toBe('done');
  }, 60_000);
});

function __dirnameOf(): string {
  return join(process.cwd(), 'libs/process-pool/src');
}
