/**
 * Readiness of a polling loop (relay, consumer): ready once started, until it is stopped or its
 * last few rounds all failed. One failed round is retried quietly and does not flip readiness.
 */
export class LoopHealth {
  private started = false;
  private failures = 0;

  constructor(private readonly failuresBeforeNotReady = 3) {}

  markStarted(): void {
    this.started = true;
  }

  succeeded(): void {
    this.failures = 0;
  }

  failed(): void {
    this.failures++;
  }

  ready(stopped: boolean): boolean {
    return this.started && !stopped && this.failures < this.failuresBeforeNotReady;
  }
}
