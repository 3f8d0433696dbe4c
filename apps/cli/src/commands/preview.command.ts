import type { PreviewPart, PreviewRequest, PreviewResult } from '@campaigns/contracts';
import { EXIT, type CliIo, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatPreview } from './format.js';
import { COLOUR_ENV, NATS_ENV, NATS_EXIT_CODES } from './help-text.js';
import {
  addFileOption,
  addOutputOptions,
  isStructured,
  outputOf,
  specFileOf,
  tableView,
} from './options.js';
import { printData } from './output.js';
import { readSpecText, specDisplayName } from './spec-file.js';
import { clientSettings, CliFailure, withSpecService } from './spec-service-client.js';

export const previewCommand: Command = {
  name: 'preview',
  summary: 'Show what applying a campaign spec would do to each repository',
  usage: 'campaign preview -f FILE [--diff] [-o json|yaml|wide]',
  configure(command) {
    addFileOption(command, 'preview');
    command.option(
      '--diff',
      "each changeset's diff, where its steps have run and stay the same (up to 32 KiB each, 2 MiB in all)",
    );
    addOutputOptions(command, ['json', 'yaml', 'wide']);
  },
  help: {
    env: [...NATS_ENV, ...COLOUR_ENV],
    examples: [
      ['campaign preview -f hello.campaign.yaml', 'each repository with its action and reasons'],
      ['campaign preview -f hello.campaign.yaml -o yaml', 'the same as YAML'],
      ['campaign preview -f hello.campaign.yaml --diff', 'and the diff each changeset keeps'],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  async run({ options }, io) {
    const file = specFileOf('preview', options);
    const format = outputOf(options);
    const specText = await readSpecText('preview', file, io.stdin);
    const preview = await requestPreview(io, {
      fileName: specDisplayName(file),
      specText,
      ...(options['diff'] === true ? { diff: true } : {}),
    });
    if ('error' in preview) return reportApiError('preview', preview.error, io, format);
    for (const warning of preview.warnings) io.stderr(`${warning}\n`);
    if (isStructured(format)) printData(io, format, preview);
    else io.stdout(formatPreview(preview, tableView(io, format)));
    return EXIT.ok;
  },
};

/** Asks spec-service for a preview and assembles its messages, or returns its error. */
export async function requestPreview(
  io: CliIo,
  request: PreviewRequest,
): Promise<PreviewResult | { error: import('@campaigns/contracts').ApiError }> {
  const settings = clientSettings(io.env);
  settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
  return withSpecService(
    io.env,
    async (client) => {
      const parts: PreviewPart[] = [];
      for (const reply of await client.requestMany<PreviewPart>('preview', request)) {
        if (!reply.ok) return { error: reply.error };
        const { ok: _ok, ...part } = reply;
        parts.push(part);
      }
      return assemblePreview(parts);
    },
    settings,
  );
}

/** The head and the chunks' rows as one preview; every row the head announced must be there. */
function assemblePreview(parts: readonly PreviewPart[]): PreviewResult {
  const [first, ...chunks] = parts;
  if (first === undefined || !('head' in first))
    throw new CliFailure('spec-service answered preview without its head', 1);
  const rows = chunks.flatMap((c) => ('rows' in c ? c.rows : []));
  const { campaign, rowCount, problems, warnings } = first.head;
  if (rows.length !== rowCount)
    throw new CliFailure(
      `spec-service's preview announced ${rowCount} rows but sent ${rows.length}`,
      1,
    );
  return { campaign, rows, problems, warnings };
}
