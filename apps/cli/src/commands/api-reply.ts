import type { ApiError } from '@campaigns/contracts';
import { EXIT, type CliIo } from '../command.js';
import { EXIT_NOT_AUTHENTICATED } from './credentials.js';
import { isStructured, type OutputFormat } from './options.js';
import { printData } from './output.js';

/**
 * Reports spec-service's `ok: false` answer: its diagnostics (FILE:LINE:COL: message) and
 * message on stderr, and with `-o json|yaml` the error on stdout too. Exit 1, or 4 when the
 * caller is not authenticated or not allowed.
 */
export function reportApiError(
  command: string,
  error: ApiError,
  io: CliIo,
  format: OutputFormat,
): number {
  if (isStructured(format)) printData(io, format, { ok: false, error });
  for (const diagnostic of error.diagnostics ?? []) io.stderr(`${diagnostic}\n`);
  io.stderr(`campaign ${command}: ${error.message}\n`);
  return error.code === 'unauthenticated' || error.code === 'forbidden'
    ? EXIT_NOT_AUTHENTICATED
    : EXIT.failed;
}

/** Milliseconds from an optional environment variable (tests shorten waits with these). */
export function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
