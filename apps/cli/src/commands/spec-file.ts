import { readFile, stat } from 'node:fs/promises';
import { formatDiagnostic, specSizeError } from '@campaigns/campaign-spec';
import { CliFailure } from './spec-service-client.js';

/**
 * The text of a spec file for apply and preview. A file over the spec size limit is not read:
 * that is a FILE:1:1 diagnostic and exit 1; an unreadable file is exit 2.
 */
export async function readSpecText(command: string, file: string): Promise<string> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw unreadable(command, file, 'it is a directory');
    const tooLarge = specSizeError(info.size);
    if (tooLarge) throw new CliFailure(formatDiagnostic(file, tooLarge), 1, false);
    const text = await readFile(file, 'utf8');
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  } catch (error) {
    if (error instanceof CliFailure) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (error as Error).message;
    throw unreadable(command, file, reason);
  }
}

function unreadable(command: string, file: string, reason: string): CliFailure {
  return new CliFailure(`campaign ${command}: cannot read ${file}: ${reason}`, 2, false);
}
