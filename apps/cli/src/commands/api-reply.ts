import type { ApiError, ApiVerb } from '@campaigns/contracts';
import { EXIT, type CliIo } from '../command.js';
import { EXIT_NOT_AUTHENTICATED } from './credentials.js';
import { isStructured, type OutputFormat } from './options.js';
import { printData } from './output.js';
import { clientSettings, withSpecService, type ClientSettings } from './spec-service-client.js';

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

/**
 * Where the CLI asks spec-service, with CAMPAIGN_REQUEST_TIMEOUT_MS; with `token`, carrying that
 * one instead of the caller's (login checks a token before saving it).
 */
export function requestSettings(io: CliIo, token?: string): ClientSettings {
  const settings = clientSettings(
    token === undefined ? io.env : { ...io.env, CAMPAIGN_TOKEN: token },
  );
  settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
  return settings;
}

/**
 * Sends one request to spec-service and prints its answer: the data with -o json|yaml, else
 * the text `say` makes of it; an error reply is reported as reportApiError does, as `command`.
 */
export function askSpecService<R extends object>(
  io: CliIo,
  format: OutputFormat,
  verb: ApiVerb,
  request: object,
  say: (result: R) => string,
  command: string = verb,
): Promise<number> {
  return withSpecService(
    io.env,
    async (client) => {
      const reply = await client.request<R>(verb, request);
      if (!reply.ok) return reportApiError(command, reply.error, io, format);
      const { ok: _ok, ...result } = reply;
      if (isStructured(format)) printData(io, format, result);
      else {
        const text = say(result as unknown as R);
        io.stdout(text.endsWith('\n') ? text : `${text}\n`);
      }
      return EXIT.ok;
    },
    requestSettings(io),
  );
}
