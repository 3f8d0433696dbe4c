import type { ApiError } from '@campaigns/contracts';
import { EXIT, type CliIo } from '../command.js';

/**
 * Reports spec-service's `ok: false` answer: its diagnostics (FILE:LINE:COL: message) and
 * message on stderr, and with `--json` the error on stdout too. Exit 1.
 */
export function reportApiError(command: string, error: ApiError, io: CliIo, json: boolean): number {
  if (json) io.stdout(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
  for (const diagnostic of error.diagnostics ?? []) io.stderr(`${diagnostic}\n`);
  io.stderr(`campaign ${command}: ${error.message}\n`);
  return EXIT.failed;
}

/** Milliseconds from an optional environment variable (tests shorten waits with these). */
export function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
