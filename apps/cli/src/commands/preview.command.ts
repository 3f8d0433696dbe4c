import type { PreviewRequest, PreviewResult } from '@campaigns/events';
import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatPreview } from './format.js';
import { parseOptions } from './options.js';
import { readSpecText } from './spec-file.js';
import { clientSettings, withSpecService } from './spec-service-client.js';

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
        const reply = await client.request<PreviewResult>('preview', request);
        if (!reply.ok) return reportApiError('preview', reply.error, io, json);
        const { ok: _ok, ...preview } = reply;
        for (const warning of preview.warnings) io.stderr(`${warning}\n`);
        io.stdout(json ? `${JSON.stringify(preview, null, 2)}\n` : formatPreview(preview));
        return EXIT.ok;
      },
      settings,
    );
  },
};
