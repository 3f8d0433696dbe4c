import { readFileSync } from 'node:fs';
import { secretLengthProblem } from './secret-policy.js';

/** Files read as secrets are tokens and passwords, never large: a bigger file is a mistake. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type SecretVariable =
  | { readonly value: string; readonly problem?: undefined }
  | { readonly value?: undefined; readonly problem: string };

/**
 * A secret named by an environment variable, from the variable itself or, the way Docker's and
 * compose's secrets are handed over, from the file that `${name}_FILE` names (one trailing line
 * break dropped). Setting both is refused: which one wins would be a guess. The problem is a
 * whole phrase naming the variable, never holding the value.
 */
export function readSecretVariable(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): SecretVariable {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
    return {
      problem: `environment variables ${name} and ${name}_FILE are both set; set one of them`,
    };
  }
  let value = direct ?? '';
  if (value === '' && file !== undefined && file !== '') {
    const read = readSecretFile(file);
    if (read.problem !== undefined) {
      return { problem: `environment variable ${name}_FILE ${read.problem}` };
    }
    value = read.value;
  }
  if (value === '')
    return { problem: `environment variable ${name} is not set (nor ${name}_FILE)` };
  const short = secretLengthProblem(value);
  const source = direct !== undefined && direct !== '' ? name : `${name}_FILE`;
  return short === null ? { value } : { problem: `environment variable ${source} ${short}` };
}

/** readSecretVariable for a secret that may be left out: undefined when neither NAME nor NAME_FILE is set. */
export function readOptionalSecretVariable(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): SecretVariable | undefined {
  if (!env[name]?.trim() && !env[`${name}_FILE`]?.trim()) return undefined;
  return readSecretVariable(env, name);
}

function readSecretFile(path: string): SecretVariable {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return { problem: `names ${path}, which cannot be read (${code})` };
  }
  if (content.length > MAX_SECRET_FILE_BYTES) {
    return { problem: `names ${path}, which is over ${MAX_SECRET_FILE_BYTES} bytes: not a secret` };
  }
  const text = content.toString('utf8').replace(/\r?\n$/, '');
  if (text === '') return { problem: `names ${path}, which is empty` };
  return { value: text };
}

export type DatabaseUrl =
  | { readonly url: string; readonly problem?: undefined }
  | { readonly url?: undefined; readonly problem: string };

/**
 * `url` with its password taken from `DATABASE_PASSWORD`, or from the file `DATABASE_PASSWORD_FILE`
 * names (a compose secret, shared with the postgres container's POSTGRES_PASSWORD_FILE), when
 * either is set; `url` as it is otherwise. The problem never holds the password or the URL.
 */
export function withDatabasePassword(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): DatabaseUrl {
  if (!env['DATABASE_PASSWORD'] && !env['DATABASE_PASSWORD_FILE']) return { url };
  const password = readSecretVariable(env, 'DATABASE_PASSWORD');
  if (password.problem !== undefined) return { problem: password.problem };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'DATABASE_PASSWORD is set, but the database URL is not a URL to put it in' };
  }
  // The setter percent-encodes what a URL's user info cannot hold (@, :, /, …).
  parsed.password = password.value;
  return { url: parsed.toString() };
}
