import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
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
 * Where NATS is and as whom the CLI connects, when the environment does not say: `npm start`
 * writes its own broker's (the `cli` user) into the config file. NATS_URL in the environment
 * replaces it as a whole; NATS_USER and NATS_PASSWORD win over its user and password.
 */
export interface SavedNats {
  url: string;
  user?: string;
  password?: string;
}

/** What the config file holds: the token `campaign login` saved, and where NATS is. */
interface ConfigFile {
  token?: string;
  nats?: SavedNats;
}

/** The config file's content as written, or undefined when there is none. */
function readConfigText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliFailure(`cannot read ${file}: ${(error as Error).message}`, 2);
  }
}

function parseConfig(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The access token requests carry: $CAMPAIGN_TOKEN, else the one `campaign login` saved, else
 * none (spec-service then refuses the request, saying how to get one). Never printed.
 */
export function accessTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env['CAMPAIGN_TOKEN']?.trim();
  if (fromEnv) return fromEnv;
  const file = configFileOf(env);
  const text = readConfigText(file);
  if (text === undefined) return undefined;
  const config = parseConfig(text);
  const token = config?.['token'];
  if (typeof token === 'string' && token !== '') return token;
  // Logged out, with where NATS is kept (see removeSavedToken).
  if (config !== undefined && token === undefined && config['nats'] !== undefined) return undefined;
  throw new CliFailure(
    `${file} holds no access token; run "campaign login" again (or set CAMPAIGN_TOKEN)`,
    2,
  );
}

/** The config file's NATS settings (see SavedNats), or undefined when it has none. */
export function savedNatsOf(env: NodeJS.ProcessEnv): SavedNats | undefined {
  const file = configFileOf(env);
  const text = readConfigText(file);
  // A file that is not JSON is reported by accessTokenOf, with what to do about it.
  const nats = text === undefined ? undefined : parseConfig(text)?.['nats'];
  if (nats === undefined) return undefined;
  const { url, user, password } = (nats ?? {}) as Record<string, unknown>;
  const optional = (value: unknown) => value === undefined || typeof value === 'string';
  if (typeof url !== 'string' || url.trim() === '' || !optional(user) || !optional(password)) {
    throw new CliFailure(
      `${file} has a "nats" entry that is not { "url", "user", "password" }; fix or remove it (or set NATS_URL)`,
      2,
    );
  }
  return {
    url: url.trim(),
    ...(user ? { user: user as string } : {}),
    ...(password ? { password: password as string } : {}),
  };
}

/** The parts of the config file that are kept when one of them changes. */
function currentConfig(file: string): ConfigFile {
  const text = readConfigText(file);
  const config = text === undefined ? undefined : parseConfig(text);
  const token = config?.['token'];
  const nats = config?.['nats'];
  return {
    ...(typeof token === 'string' && token !== '' ? { token } : {}),
    ...(typeof nats === 'object' && nats !== null ? { nats: nats as SavedNats } : {}),
  };
}

/** Writes the config file, readable by the user alone (0600, in a 0700 folder). */
async function writeConfig(file: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file: an older one may have been wider.
  await chmod(file, 0o600);
}

/** Saves the token for later commands (keeping the file's NATS settings); returns the file. */
export async function saveAccessToken(env: NodeJS.ProcessEnv, token: string): Promise<string> {
  const file = configFileOf(env);
  const { nats } = currentConfig(file);
  await writeConfig(file, { token, ...(nats === undefined ? {} : { nats }) });
  return file;
}

/** Saves where NATS is and as whom to connect (keeping a saved token); returns the file. */
export async function saveNatsSettings(env: NodeJS.ProcessEnv, nats: SavedNats): Promise<string> {
  const file = configFileOf(env);
  const { token } = currentConfig(file);
  await writeConfig(file, { ...(token === undefined ? {} : { token }), nats });
  return file;
}

/**
 * What `campaign logout` did: there was no config file; the file held no token; the file held
 * only the token and is gone; the token is gone and the file keeps its NATS settings.
 */
export type Logout = 'no-file' | 'no-token' | 'removed-file' | 'removed-token';

/**
 * Removes the saved token. Where NATS is stays (it says where to reach the broker, not who you
 * are, and `campaign login` needs it to check the next token); a file with nothing else goes.
 */
export async function removeSavedToken(env: NodeJS.ProcessEnv): Promise<Logout> {
  const file = configFileOf(env);
  if (readConfigText(file) === undefined) return 'no-file';
  const { token, nats } = currentConfig(file);
  if (nats === undefined) {
    await rm(file, { force: true });
    return 'removed-file';
  }
  if (token === undefined) return 'no-token';
  await writeConfig(file, { nats });
  return 'removed-token';
}
