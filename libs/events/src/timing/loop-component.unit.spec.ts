import { describe, expect, it } from '@jest/globals';
import { LoopComponent } from './loop-component.js';
import { sleep } from './sleep.js';

/** Counts its rounds; each round holds work in flight until `release` is called. */
class CountingLoop extends LoopComponent {
  readonly name = 'counting';
  runs = 0;
  rounds = 0;
  finishedRounds = 0;
  private releaseRound: () => void = () => undefined;
  readonly firstRound: Promise<void>;
  private markFirst: () => void = () => undefined;

  constructor() {
    super();
    this.firstRound = new Promise((resolve) => (this.markFirst = resolve));
  }

  release(): void {
    this.releaseRound();
  }

  protected async run(signal: AbortSignal): Promise<void> {
    this.runs++;
    while (!signal.aborted) {
      this.rounds++;
      const inFlight = new Promise<void>((resolve) => (this.releaseRound = resolve));
      this.markFirst();
      await inFlight;
      this.finishedRounds++;
      await sleep(5, signal);
    }
  }
}

describe('LoopComponent', () => {
  it('is ready only between start and stop, and runs one loop however often it is started', async () => {
    const loop = new CountingLoop();
    expect(loop.ready()).toBe(false);
    await loop.start();
    await loop.start();
    await loop.firstRound;
    expect(loop.ready()).toBe(true);
    expect(loop.runs).toBe(1);
    const stopped = loop.stop();
    expect(loop.ready()).toBe(false);
    loop.release();
    await stopped;
    expect(loop.runs).toBe(1);
  });

  it('waits in stop for the round in flight to finish', async () => {
    const loop = new CountingLoop();
    await loop.start();
    await loop.firstRound;
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    // Every pending callback runs before setImmediate's: a stop that did not wait would be done.
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    expect(loop.finishedRounds).toBe(0);
    loop.release();
    await stopping;
    expect(loop.finishedRounds).toBe(1);
    expect(loop.rounds).toBe(1);
  });
});
