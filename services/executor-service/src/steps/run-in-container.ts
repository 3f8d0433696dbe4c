import { mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type Docker from 'dockerode';
import {
  SECRETS_PATH,
  type ContainerRun,
  type StepContainers,
  type StepContainerSpec,
} from './step-containers.js';
import { shellQuote } from './step-agent.js';
import { dockerFailure, StepFailed } from './step-failure.js';
import type { RenderedStep } from './step-template.js';

/** Where and how a rendered step runs: the Docker side of `runSteps`. */
export interface ContainerStepOptions {
  readonly docker: Docker;
  readonly containers: StepContainers;
  /** Mounted at /work in the containers. */
  readonly workspaceDir: string;
  /** Directory of the workspace inside the repository (`''` for the root); the step runs there. */
  readonly path: string;
  /** Bounds the step's run, and the pull of a missing image. */
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
  /** Try `docker pull` for an image that is not present. */
  readonly pullMissingImages: boolean;
}

/**
 * The engine stores a container's Env on disk, so secrets are handed over in a file in memory
 * (/dev/shm) mounted read-only, which a wrapper sources before running the step's script.
 */
function secretsFile(secret: ReadonlyMap<string, string>): string {
  return [...secret].map(([name, value]) => `${name}=${shellQuote(value)}\n`).join('');
}

async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function pullImage(
  docker: Docker,
  image: string,
  timeoutMs: number,
): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const pulled = (async () => {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
  })();
  // An unreachable registry can swallow packets instead of refusing; the step's timeout bounds the pull too.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the pull took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([pulled, timedOut]);
    return undefined;
  } catch (err) {
    pulled.catch(() => undefined);
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

async function ensureImage(options: ContainerStepOptions, image: string, stepIndex: number) {
  const { docker } = options;
  if (await imagePresent(docker, image)) return;
  const pullError = !options.pullMissingImages
    ? 'pulling is disabled'
    : await pullImage(docker, image, options.timeoutMs);
  if (pullError === undefined && (await imagePresent(docker, image))) return;
  throw new StepFailed({
    reason: 'image-missing',
    stepIndex,
    image,
    message: `step ${stepIndex + 1}: the image ${image} is not present and cannot be pulled (${(pullError ?? 'pull finished without the image').trim()})`,
  });
}

/**
 * Runs a rendered step in the image's warm container (its image present or pulled first). A
 * missing image or an engine that refuses is thrown as a `StepFailed`.
 */
export async function runStepInContainer(
  options: ContainerStepOptions,
  image: string,
  stepIndex: number,
  step: RenderedStep,
): Promise<ContainerRun> {
  const { containers, path } = options;
  const withSecrets = step.secrets.size > 0;
  const spec: StepContainerSpec = { image, filePaths: step.filePaths, withSecrets };
  try {
    if (!containers.fits(stepIndex, spec)) await ensureImage(options, image, stepIndex);
  } catch (err) {
    if (err instanceof StepFailed) throw err;
    throw dockerFailure(stepIndex, err);
  }
  let command = ['/bin/sh', '-c', step.script];
  if (withSecrets) {
    // `$0` carries the script, so it is not re-quoted.
    command = [
      '/bin/sh',
      '-c',
      `set -a && . ${SECRETS_PATH} && set +a && exec /bin/sh -c "$0"`,
      step.script,
    ];
  }
  // The engine creates a missing working directory for a new container, not for an exec.
  await mkdir(join(options.workspaceDir, path), { recursive: true });
  try {
    return await containers.run(stepIndex, spec, {
      command,
      env: step.env,
      workingDir: path ? posix.join('/work', path) : '/work',
      files: step.files,
      secrets: withSecrets ? secretsFile(step.secrets) : null,
      timeoutMs: options.timeoutMs,
      outputCapBytes: options.outputCapBytes,
    });
  } catch (err) {
    throw dockerFailure(stepIndex, err);
  }
}
