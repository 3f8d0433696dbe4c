import { execFile, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The image the example campaigns' steps run in; without a reachable registry it is built locally. */
export const STEP_IMAGE = 'alpine:3';

const BUSYBOX = '/bin/busybox';
const LOCK_DIR = join(tmpdir(), 'campaigns-step-image.lock');
const LOCK_STALE_MS = 120_000;

async function imageExists(image: string): Promise<boolean> {
  try {
    await run('docker', ['image', 'inspect', image]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure `alpine:3` exists: when absent, imports a busybox root filesystem (Debian's
 * busybox-static) under that name. Idempotent; a directory lock keeps two processes that race
 * from importing twice, and a lock left by a killed run is taken over after two minutes.
 */
export async function ensureStepImage(image = STEP_IMAGE): Promise<string> {
  if (await imageExists(image)) return image;
  await acquireLock();
  try {
    if (!(await imageExists(image))) await importBusyboxImage(image);
  } finally {
    await rmdir(LOCK_DIR).catch(() => undefined);
  }
  return image;
}

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(LOCK_DIR).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS || Date.now() > deadline) {
        await rmdir(LOCK_DIR).catch(() => undefined);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function importBusyboxImage(image: string): Promise<void> {
  try {
    await stat(BUSYBOX);
  } catch {
    throw new Error(
      `${image} is missing and cannot be pulled here; install Debian's busybox-static so Campaigns can build it`,
    );
  }
  const root = await mkdtemp(join(tmpdir(), 'campaigns-rootfs-'));
  try {
    for (const dir of ['bin', 'tmp', 'work']) await mkdir(join(root, dir));
    await cp(BUSYBOX, join(root, 'bin/busybox'));
    // `busybox --install -s DIR` links to the host's own path (/usr/bin/busybox on merged-/usr
    // Debian), which the image lacks; link every applet to /bin/busybox by a relative name instead.
    const { stdout } = await run(BUSYBOX, ['--list']);
    for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox')) {
      await symlink('busybox', join(root, 'bin', applet));
    }
    await chmod(join(root, 'tmp'), 0o1777);
    await pipeTarIntoDockerImport(root, image);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function pipeTarIntoDockerImport(root: string, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const importer = spawn('docker', ['import', '-', image], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    importer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    tar.stdout.pipe(importer.stdin);
    tar.on('error', reject);
    importer.on('error', reject);
    importer.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker import ${image} failed: ${stderr.trim()}`)),
    );
  });
}
