import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { WhoamiResult } from '@campaigns/contracts';
import { EXIT, UsageError, type CliIo, type Command } from '../command.js';
import { askSpecService, reportApiError, requestSettings } from './api-reply.js';
import {
  configFileOf,
  EXIT_NOT_AUTHENTICATED,
  type Logout,
  removeSavedToken,
  saveAccessToken,
} from './credentials.js';
import { NATS_ENV, NATS_EXIT_CODES } from './help-text.js';
import { addOutputOptions, isStructured, outputOf, type OutputFormat } from './options.js';
import { printData } from './output.js';
import { CliFailure, withSpecService } from './spec-service-client.js';

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'Show who your access token says you are, and your namespaces',
  usage: 'campaign whoami [-o json|yaml]',
  configure(command) {
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: NATS_ENV,
    examples: [
      ['campaign whoami', 'your user name, whether you are a site admin, your namespaces'],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  run({ options }, io) {
    return askSpecService<WhoamiResult>(io, outputOf(options), 'whoami', {}, whoamiText);
  },
};

function whoamiText(who: WhoamiResult): string {
  return (
    `User:        ${who.user}\n` +
    `Site admin:  ${who.siteAdmin ? 'yes' : 'no'}\n` +
    `Namespaces:  ${who.namespaces.join(', ')}\n`
  );
}

export const loginCommand: Command = {
  name: 'login',
  summary:
    'Save your access token (read from stdin) for later commands, once spec-service accepts it',
  usage: 'campaign login [-o json|yaml]',
  configure(command) {
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [
      ...NATS_ENV.filter(([name]) => name !== 'CAMPAIGN_TOKEN'),
      [
        'XDG_CONFIG_HOME',
        'where the token is saved: $XDG_CONFIG_HOME/campaign/config.json (default ~/.config); its NATS settings stay',
      ],
    ],
    examples: [
      [
        'campaign login < my-token',
        'read the token from a file; it is checked, then saved (mode 0600)',
      ],
      ['campaign login', 'on a terminal: paste the token and press Enter'],
    ],
    exitCodes: [
      [0, 'the token is valid and saved'],
      [1, 'spec-service answered with an error'],
      [2, 'no token was given, or NATS or spec-service cannot be reached'],
      [
        EXIT_NOT_AUTHENTICATED,
        'spec-service does not accept the token (unknown or revoked): nothing saved',
      ],
    ],
  },
  async run({ options }, io) {
    const format = outputOf(options);
    const token = await readTokenFrom(io);
    return withSpecService(
      io.env,
      async (client) => {
        const reply = await client.request<WhoamiResult>('whoami', {});
        if (!reply.ok) return reportApiError('login', reply.error, io, format);
        const { ok: _ok, ...who } = reply;
        const file = await saveAccessToken(io.env, token);
        report(
          io,
          format,
          { ...who, saved: file },
          `Logged in as ${who.user}; the token is saved in ${file}\n`,
        );
        return EXIT.ok;
      },
      requestSettings(io, token),
    );
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Forget the access token campaign login saved',
  usage: 'campaign logout',
  configure() {},
  help: {
    env: [['XDG_CONFIG_HOME', 'where the token was saved (default ~/.config)']],
    examples: [
      [
        'campaign logout',
        'removes the token from ~/.config/campaign/config.json; where NATS is (npm start saves it there) stays for the next login',
      ],
    ],
    exitCodes: [[0, 'no token is saved any more (CAMPAIGN_TOKEN, if set, still counts)']],
  },
  async run(_input, io) {
    const file = configFileOf(io.env);
    const said: Record<Logout, string> = {
      'no-file': `Not logged in: there was no ${file}`,
      'no-token': `Not logged in: ${file} holds no token`,
      'removed-file': `Logged out: removed ${file}`,
      'removed-token': `Logged out: removed the token from ${file} (where NATS is stays there)`,
    };
    io.stdout(`${said[await removeSavedToken(io.env)]}\n`);
    return EXIT.ok;
  },
};

/** The token on stdin (its first non-empty line); on a terminal, after a prompt on stderr. */
async function readTokenFrom(io: CliIo): Promise<string> {
  const stdin = io.stdin;
  if (stdin === undefined) throw new UsageError('login reads the token from stdin');
  const token = (stdin as { isTTY?: boolean }).isTTY
    ? await hiddenLine(stdin, io)
    : await firstLine(stdin);
  if (token === '') throw new UsageError('login needs the token on stdin: campaign login < FILE');
  return token;
}

/** A line typed at the terminal, not echoed (a token on the screen is a token in the scrollback). */
async function hiddenLine(stdin: NodeJS.ReadableStream, io: CliIo): Promise<string> {
  io.stderr('Access token (not shown): ');
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      prompt.on('SIGINT', () => reject(new CliFailure('login cancelled', EXIT.interrupted)));
      prompt.question('', (line) => resolve(line.trim()));
    });
  } finally {
    prompt.close();
    io.stderr('\n');
  }
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const line = text.split('\n').find((l) => l.trim() !== '');
    if (line !== undefined && text.includes('\n')) return line.trim();
    if (text.length > 4096) break;
  }
  return text.trim().split('\n')[0]?.trim() ?? '';
}

/** Data for -o json|yaml, else the sentence. */
export function report(io: CliIo, format: OutputFormat, data: object, text: string): void {
  if (isStructured(format)) printData(io, format, data);
  else io.stdout(text);
}
