import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliFailure } from './spec-service-client.js';

/** Exit code of a request refused as not authenticated or not allowed. */
export const EXIT_NOT_AUTHENTICATED = 4;

/** `$XDG_CONFIG_HOME/campaign/config.json`, by default under `~/.config`. */
export function configFileOf(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME']?.trim();
  const base = xdg ? xdg : join(env['HOME']?.trim() || homedir(), '.config');
  return join(base, 'campaign', 'config.json');
}

/**
 * The access token requests carry: $CAMPAIGN_TOKEN, else the one `campaign login` saved, else
 * none (spec-service then refuses the request, saying how to get one). Never printed.
 */
export function accessTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env['CAMPAIGN_TOKEN']?.trim();
  if (fromEnv) return fromEnv;
  const file = configFileOf(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliFailure(`cannot read ${file}: ${(error as Error).message}`, 2);
  }
  try {
    const token = (JSON.parse(text) as { token?: unknown }).token;
    if (typeof token === 'string' && token !== '') return token;
  } catch {
    // reported below
  }
  throw new CliFailure(
    `${file} holds no access token; run "campaign login" again (or set CAMPAIGN_TOKEN)`,
    2,
  );
}

/** Saves the token for later commands, readable by the user alone (0600, in a 0700 folder). */
export async function saveAccessToken(env: NodeJS.ProcessEnv, token: string): Promise<string> {
  const file = configFileOf(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ token }, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file: an older one may have been wider.
  await chmod(file, 0o600);
  return file;
}

/** Removes the saved token; false when there was none. */
export async function removeSavedToken(env: NodeJS.ProcessEnv): Promise<boolean> {
  const file = configFileOf(env);
  try {
    await readFile(file);
  } catch {
    return false;
  }
  await rm(file, { force: true });
  return true;
}
