/** A service cannot start because something it depends on is missing or unreachable. */
export class DependencyUnavailableError extends Error {
  constructor(
    /** What is missing, as an operator calls it: "PostgreSQL", "NATS". */
    readonly dependency: string,
    /** Where it was looked for, with any password masked. */
    readonly url: string,
    /** The environment variable that sets the URL. */
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`cannot connect to ${dependency} at ${url} (set ${variable}): ${reason}`);
    this.name = 'DependencyUnavailableError';
  }
}
