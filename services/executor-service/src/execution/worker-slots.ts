import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import {
  removeDeadExecutorsContainers,
  removeDeadProcessesDirs,
  StepContainers,
} from '../steps/index.js';

const SLOT_PREFIX = `slot-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

/**
 * Removal that outlasts a process still writing into the tree (a git process of a job abandoned
 * at a stop deadline): a directory that gains an entry while it is emptied fails with ENOTEMPTY,
 * which `rm` retries a few times.
 */
const REMOVE = { recursive: true, force: true, maxRetries: 10, retryDelay: 20 } as const;

async function emptyDirectory(dir: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(names.map((name) => rm(join(dir, name), REMOVE)));
}

/** One job at a time: a workspace directory and the warm containers that mount it. */
export interface Slot {
  readonly dir: string;
  /** Mounted at /work in the slot's containers: emptied between jobs, never replaced. */
  readonly workspaceDir: string;
  readonly containers: StepContainers;
  busy: boolean;
  /** The execution running in the slot now. */
  executionId: string | null;
}

export interface WorkerSlotsOptions {
  readonly docker: Docker;
  /** Where the slots' directories are made. */
  readonly workDir: string;
  /** How many slots at most (jobs that run containers at once). */
  readonly slots: number;
}

/**
 * The worker's slots, made on demand up to `slots`; a job waits for a free one. Before the first,
 * what dead executors on this host left (warm containers, memory files, slot directories) is
 * removed.
 */
export class WorkerSlots {
  readonly #slots: Slot[] = [];
  readonly #waiting: ((slot: Slot) => void)[] = [];
  #swept: Promise<void> | null = null;

  constructor(private readonly options: WorkerSlotsOptions) {}

  /** A free slot, preferring one whose warm containers already work for this application. */
  async acquire(application: string): Promise<Slot> {
    this.#swept ??= this.#sweep();
    await this.#swept;
    const free = this.#slots.filter((s) => !s.busy);
    let slot =
      free.find((s) => s.containers.application === application) ??
      free.find((s) => s.containers.application === null) ??
      free[0];
    if (!slot && this.#slots.length < this.options.slots) {
      await mkdir(this.options.workDir, { recursive: true });
      const dir = await mkdtemp(join(this.options.workDir, `${SLOT_PREFIX}${process.pid}-`));
      const workspaceDir = join(dir, 'repo');
      await mkdir(workspaceDir);
      slot = {
        dir,
        workspaceDir,
        busy: false,
        executionId: null,
        containers: new StepContainers({
          docker: this.options.docker,
          workspaceDir,
          ...(process.getuid && process.getgid
            ? { user: `${process.getuid()}:${process.getgid()}` }
            : {}),
        }),
      };
      this.#slots.push(slot);
    }
    if (!slot) slot = await new Promise<Slot>((resolve) => this.#waiting.push(resolve));
    slot.busy = true;
    return slot;
  }

  /** Readies an acquired slot for the execution: its application's containers, an empty workspace. */
  async prepare(slot: Slot, application: string, executionId: string): Promise<void> {
    await slot.containers.use(application);
    slot.executionId = executionId;
    await emptyDirectory(slot.workspaceDir);
  }

  /** Empties the slot's workspace and hands the slot to the next waiting job, if any. */
  async release(slot: Slot): Promise<void> {
    slot.executionId = null;
    await emptyDirectory(slot.workspaceDir).catch(() => undefined);
    const next = this.#waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /**
   * Containers an earlier attempt of this execution may still run in: this process's slot that
   * still works on it (a missed heartbeat), and whatever dead executors on this host left.
   */
  async removeLeftovers(executionId: string): Promise<void> {
    await Promise.all(
      this.#slots
        .filter((slot) => slot.executionId === executionId)
        .map((slot) => slot.containers.removeAll()),
    );
    await removeDeadExecutorsContainers(this.options.docker);
  }

  /** Removes every warm container and slot directory; call once no job runs any more. */
  async close(): Promise<void> {
    const slots = this.#slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        await slot.containers.removeAll();
        await rm(slot.dir, REMOVE);
      }),
    );
  }

  /** What dead executors on this host left: warm containers, memory files, slot directories. */
  async #sweep(): Promise<void> {
    await removeDeadExecutorsContainers(this.options.docker);
    await removeDeadProcessesDirs(this.options.workDir, SLOT_PREFIX, REMOVE);
  }
}
