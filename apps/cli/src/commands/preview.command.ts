import type { PreviewPart, PreviewRequest, PreviewResult } from '@campaigns/contracts';
import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatPreview } from './format.js';
import { parseOptions } from './options.js';
import { readSpecText } from './spec-file.js';
import { clientSettings, CliFailure, withSpecService } from './spec-service-client.js';

export const previewCommand: Command = {
  name: 'preview',
  summary: 'Show what applying a campaign spec would do to each repository',
  usage: 'campaign preview -f FILE [--json]',
  async run(args, io) {
    const options = parseOptions('preview', args, { flags: ['--json'], file: true });
    const file = options.file!;
    const json = options.flags.has('--json');
    const specText = await readSpecText('preview', file);
    const request: PreviewRequest = { fileName: file, specText };
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        const parts: PreviewPart[] = [];
        for (const reply of await client.requestMany<PreviewPart>('preview', request)) {
          if (!reply.ok) return reportApiError('preview', reply.error, io, json);
          const { ok: _ok, ...part } = reply;
          parts.push(part);
        }
        const preview = assemblePreview(parts);
        for (const warning of preview.warnings) io.stderr(`${warning}\n`);
        io.stdout(json ? `${JSON.stringify(preview, null, 2)}\n` : formatPreview(preview));
        return EXIT.ok;
      },
      settings,
    );
  },
};

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
