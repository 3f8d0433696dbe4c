// Optional persistence: the state as one JSON snapshot beside the bare repositories, written
// shortly after changes (and on stop) through a temporary file and a rename, so a crash leaves
// either the old snapshot or the new one.
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateSnapshot } from './model.js';
import { SimState } from './sim-state.js';

const FILE = 'state.json';

export async function loadState(dataDir: string): Promise<SimState | null> {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return null;
  const snapshot = JSON.parse(await readFile(path, 'utf8')) as StateSnapshot;
  if (snapshot.version !== 1)
    throw new Error(`${path}: unsupported snapshot version ${String(snapshot.version)}`);
  return SimState.fromSnapshot(snapshot);
}

/**
 * A snapshot waits at least this many times as long as the last one took to write: a large state
 * (10,000 repositories: ~10 MB of JSON) is not re-serialised every second while it changes, so
 * persisting costs at most about a twentieth of the simulator's time.
 */
const SPACING_PER_WRITE_TIME = 20;

export class SnapshotWriter {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastWriteMs = 0;

  constructor(
    private readonly state: SimState,
    private readonly dataDir: string,
    private readonly delayMs = 1000,
  ) {
    state.onMutation = () => this.schedule();
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush();
      },
      Math.max(this.delayMs, this.lastWriteMs * SPACING_PER_WRITE_TIME),
    );
  }

  /** Writes the snapshot now (after any write in progress). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(async () => {
      const path = join(this.dataDir, FILE);
      const temporary = `${path}.${process.pid}.tmp`;
      const started = performance.now();
      await writeFile(temporary, JSON.stringify(this.state.snapshot()));
      await rename(temporary, path);
      this.lastWriteMs = performance.now() - started;
    });
    return this.writing;
  }
}
