import { describe, expect, it } from '@jest/globals';
import { GroupCommitQueue, QueueFullError, QueueStoppedError } from './group-commit-queue.js';

/** A handler whose batches the test releases one at a time. */
function gatedHandler(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const handle = async (batch: readonly number[]) => {
    batches.push([...batch]);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (batch.length > 1 && batch.some(fail)) throw new Error('the batch failed');
    return batch.map((item) =>
      fail(item)
        ? { ok: false as const, error: new Error(`item ${item} failed`) }
        : { ok: true as const, value: item * 10 },
    );
  };
  const releaseAll = async () => {
    while (gates.length > 0 || batches.length === 0) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { batches, gates, handle, releaseAll };
}

describe('GroupCommitQueue', () => {
  it('Given a batch being written, when more items arrive, then they are written together in the next batch, in order', async () => {
    const h = gatedHandler();
    const queue = new GroupCommitQueue({ handle: h.handle, maxBatch: 100, maxPending: 100 });
    const first = queue.submit(1);
    const rest = [2, 3, 4, 5].map((i) => queue.submit(i));
    expect(queue.pending).toBe(4);
    h.gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    await h.releaseAll();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
    expect(h.batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('Given a full queue, when another item arrives, then it is refused at once and the waiting ones are still written', async () => {
    const h = gatedHandler();
    const queue = new GroupCommitQueue({ handle: h.handle, maxBatch: 2, maxPending: 3 });
    const taken = [1, 2, 3, 4].map((i) => queue.submit(i));
    await expect(queue.submit(5)).rejects.toBeInstanceOf(QueueFullError);
    await h.releaseAll();
    expect(await Promise.all(taken)).toEqual([10, 20, 30, 40]);
    expect(h.batches).toEqual([[1], [2, 3], [4]]);
  });

  it('Given a batch that fails as a whole, when its items are written again one by one, then only the bad one fails', async () => {
    const h = gatedHandler((item) => item === 3);
    const queue = new GroupCommitQueue({ handle: h.handle, maxBatch: 10, maxPending: 10 });
    const results = [1, 2, 3, 4].map((i) =>
      queue.submit(i).then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.message }),
      ),
    );
    await h.releaseAll();
    expect(await Promise.all(results)).toEqual([
      { value: 10 },
      { value: 20 },
      { error: 'item 3 failed' },
      { value: 40 },
    ]);
    expect(h.batches).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it('Given a stop, when items are still being written, then it waits for them and takes nothing new', async () => {
    const h = gatedHandler();
    const queue = new GroupCommitQueue({ handle: h.handle, maxBatch: 10, maxPending: 10 });
    const taken = [queue.submit(1), queue.submit(2)];
    const stopped = queue.stop();
    await expect(queue.submit(3)).rejects.toBeInstanceOf(QueueStoppedError);
    await h.releaseAll();
    await stopped;
    expect(await Promise.all(taken)).toEqual([10, 20]);
  });
});
