/**
 * A one-line reason for an error. Node reports a refused connection to a name with several
 * addresses ("localhost") as an AggregateError with an empty message; its parts say what failed.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message || (typeof code === 'string' ? code : error.name);
  }
  return String(error);
}
