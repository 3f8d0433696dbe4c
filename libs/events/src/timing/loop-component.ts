/**
 * The lifecycle of a component that is one loop until stopped (the reconciler's worker, its bulk
 * processor and syncer, the gateway's held-webhook loop): `start` begins `run` with the
 * component's own abort signal and returns at once; `stop` aborts that signal and waits until
 * `run` has finished what it had in flight; it is ready from `start` until `stop`.
 *
 * `run` must watch the signal (loop `while (!signal.aborted)`, `sleep(ms, signal)`) and must not
 * reject: a loop logs and carries on, or the component would stop working without stopping.
 */
export abstract class LoopComponent {
  abstract readonly name: string;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  start(): Promise<void> {
    this.loop ??= this.run(this.abort.signal);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  ready(): boolean {
    return this.loop !== undefined && !this.abort.signal.aborted;
  }

  /** Aborted once `stop` is called: for work the loop starts that should end early too. */
  protected get stopping(): AbortSignal {
    return this.abort.signal;
  }

  protected abstract run(signal: AbortSignal): Promise<void>;
}
