import { describeError } from '../logging/describe-error.js';

/**
 * One readiness condition. Returning false or throwing fails it; a thrown error's message is
 * reported as the reason.
 */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/** The body of `GET /readyz`: each check's name with "ok" or why it failed. */
export interface ReadinessReport {
  status: 'ready' | 'not ready' | 'stopping';
  checks: Record<string, string>;
}

/** How long one check may take before it counts as failed. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/**
 * Whether the service should receive work: all checks pass and it is not shutting down. Checks
 * run concurrently, each under a timeout, so one hung dependency cannot hang the probe.
 */
export class Readiness {
  private stopping = false;
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(private readonly timeoutMs = READINESS_CHECK_TIMEOUT_MS) {}

  add(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is registered twice`);
    this.checks.set(name, check);
  }

  /** From now on the service reports itself not ready, whatever its checks say. */
  markStopping(): void {
    this.stopping = true;
  }

  async report(): Promise<ReadinessReport> {
    if (this.stopping) return { status: 'stopping', checks: {} };
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    return {
      status: entries.every(([, result]) => result === 'ok') ? 'ready' : 'not ready',
      checks,
    };
  }

  private async run(check: ReadinessCheck): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${this.timeoutMs} ms`), this.timeoutMs);
    });
    const outcome = (async () => ((await check()) ? 'ok' : 'not ready'))().catch(describeError);
    try {
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
