import type {
  OrgsAddMemberResult,
  OrgsCreateResult,
  TokensCreateResult,
  TokensRevokeResult,
  UsersCreateResult,
  UsersListResult,
} from '@campaigns/contracts';
import { EXIT, UsageError, type CliIo, type Command } from '../command.js';
import { askSpecService } from './api-reply.js';
import { EXIT_NOT_AUTHENTICATED } from './credentials.js';
import { renderTable } from './format.js';
import { NATS_ENV } from './help-text.js';
import { report } from './identity.command.js';
import { addOutputOptions, outputOf, tableView, type OutputFormat } from './options.js';
import { CliFailure } from './spec-service-client.js';

const USAGE = [
  'campaign admin users create NAME [--site-admin]',
  'campaign admin users list',
  'campaign admin tokens create USER',
  'campaign admin tokens revoke ID|USER',
  'campaign admin orgs create NAME [--public]',
  'campaign admin orgs add-member ORG USER',
  'campaign admin bootstrap NAME [--database-url URL] [--schema SCHEMA]',
];

export const adminCommand: Command = {
  name: 'admin',
  summary:
    'Site admins: users, access tokens and organizations; bootstrap: the first admin, on the database',
  usage: USAGE.join('\n       '),
  configure(command) {
    command
      .argument('[WORDS...]', 'users create NAME | users list | tokens create USER | ...')
      .option('--site-admin', 'users create: the new user is a site admin')
      .option('--public', "orgs create: any signed-in user may read the organization's campaigns")
      .option('--database-url <URL>', 'bootstrap: the database spec-service uses')
      .option('--schema <SCHEMA>', "bootstrap: spec-service's schema (default spec_service)");
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [
      ...NATS_ENV,
      ['DATABASE_URL', 'bootstrap: the database, when --database-url is not given'],
      [
        'DATABASE_PASSWORD(_FILE)',
        'bootstrap: the password to put into that URL (or a file holding it)',
      ],
    ],
    examples: [
      [
        'campaign admin bootstrap admin --database-url postgres://postgres@127.0.0.1:5432/campaigns',
        'on the database itself: make "admin" a site admin and print a new token for them',
      ],
      ['campaign admin users create alice', 'a user (then: campaign admin tokens create alice)'],
      ['campaign admin tokens create alice', 'print a new token for alice (shown this once)'],
      ['campaign admin tokens revoke alice', "revoke all of alice's tokens, at once"],
      ['campaign admin tokens revoke 12', 'revoke token 12 (the id tokens create printed)'],
      ['campaign admin orgs create acme', 'an organization: a namespace only its members use'],
      ['campaign admin orgs add-member acme alice', 'alice may apply, preview and close in acme'],
    ],
    exitCodes: [
      [0, 'done'],
      [1, 'spec-service refused (unknown user, name taken, ...)'],
      [2, 'the command line is wrong, or NATS, spec-service or the database cannot be reached'],
      [EXIT_NOT_AUTHENTICATED, 'not authenticated, or not a site admin'],
    ],
  },
  async run({ options, args }, io) {
    const words = (args[0] as unknown as string[] | undefined) ?? [];
    const format = outputOf(options);
    const [area, action, target, ...rest] = words;
    // Only orgs add-member takes a second name (the user).
    const second = area === 'orgs' && action === 'add-member' ? rest.shift() : undefined;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}" for admin`);
    const siteAdmin = options['siteAdmin'] === true;
    if (siteAdmin && !(area === 'users' && action === 'create'))
      throw new UsageError('--site-admin goes with admin users create');
    if (options['public'] === true && !(area === 'orgs' && action === 'create'))
      throw new UsageError('--public goes with admin orgs create');
    if (area === 'orgs' && action === 'add-member') {
      if (target === undefined || second === undefined)
        throw new UsageError('admin orgs add-member needs the organization and the user: ORG USER');
      return ask<OrgsAddMemberResult>(
        io,
        format,
        'orgs-add-member',
        { org: target, user: second },
        (r) =>
          r.added
            ? `${r.user} is now a member of ${r.org}\n`
            : `${r.user} was a member of ${r.org} already\n`,
      );
    }
    if (area === 'bootstrap') {
      if (action === undefined || target !== undefined)
        throw new UsageError('admin bootstrap needs one user name: admin bootstrap NAME');
      return bootstrap(io, format, action, options);
    }
    const key = `${area ?? ''} ${action ?? ''}`;
    const needsTarget = key !== 'users list';
    if (!ADMIN_VERBS[key])
      throw new UsageError(
        'admin needs users create, users list, tokens create, tokens revoke, orgs create, orgs add-member or bootstrap',
      );
    if (needsTarget !== (target !== undefined))
      throw new UsageError(
        needsTarget
          ? `admin ${key} needs a ${key === 'tokens revoke' ? 'token id or user' : 'name'}`
          : `admin ${key} takes no argument`,
      );
    return ADMIN_VERBS[key]!(io, format, target ?? '', siteAdmin || options['public'] === true);
  },
};

/** `flag`: --site-admin for users create, --public for orgs create. */
type AdminVerb = (
  io: CliIo,
  format: OutputFormat,
  target: string,
  flag: boolean,
) => Promise<number>;

/** One request, its refusals reported as `campaign admin: …`. */
const ask = <R extends object>(
  io: CliIo,
  format: OutputFormat,
  verb: Parameters<typeof askSpecService>[2],
  request: object,
  say: (result: R) => string,
) => askSpecService<R>(io, format, verb, request, say, 'admin');

const ADMIN_VERBS: Record<string, AdminVerb> = {
  'users create': (io, format, name, siteAdmin) =>
    ask<UsersCreateResult>(
      io,
      format,
      'users-create',
      { name, siteAdmin },
      (r) =>
        `Created user ${r.user.name}${r.user.siteAdmin ? ' (site admin)' : ''}; give them a token: campaign admin tokens create ${r.user.name}\n`,
    ),
  'users list': (io, format) =>
    ask<UsersListResult>(io, format, 'users-list', {}, (r) =>
      renderTable(
        ['USER', 'SITE ADMIN', 'TOKENS', 'CREATED'],
        r.users.map((u) => [
          u.name,
          u.siteAdmin ? 'yes' : 'no',
          String(u.activeTokens),
          u.createdAt,
        ]),
        tableView(io, format),
      ),
    ),
  'tokens create': (io, format, user) =>
    ask<TokensCreateResult>(io, format, 'tokens-create', { user }, (r) => {
      io.stderr(
        `Token ${r.id} for ${r.user} (shown this once; revoke with: campaign admin tokens revoke ${r.id}):\n`,
      );
      return `${r.token}\n`;
    }),
  'tokens revoke': (io, format, target) =>
    ask<TokensRevokeResult>(
      io,
      format,
      'tokens-revoke',
      /^[0-9]+$/.test(target) ? { id: target } : { user: target },
      (r) => `Revoked ${r.revoked} token${r.revoked === 1 ? '' : 's'}\n`,
    ),
  'orgs create': (io, format, name, isPublic) =>
    ask<OrgsCreateResult>(
      io,
      format,
      'orgs-create',
      { name, visibility: isPublic ? 'public' : 'private' },
      (r) =>
        `Created ${r.org.visibility} organization ${r.org.name}; add members: campaign admin orgs add-member ${r.org.name} USER\n`,
    ),
};

/**
 * The first site admin, on the database itself (whoever can write there is an operator): makes
 * NAME a site admin (creating the user if needed) and prints a new token for them.
 */
async function bootstrap(
  io: CliIo,
  format: OutputFormat,
  name: string,
  options: Record<string, unknown>,
): Promise<number> {
  const given = (options['databaseUrl'] as string | undefined) ?? io.env['DATABASE_URL']?.trim();
  if (!given)
    throw new UsageError(
      'admin bootstrap needs the database: --database-url URL (or DATABASE_URL)',
    );
  const { redactUrl, withDatabasePassword } = await import('@campaigns/events');
  // DATABASE_PASSWORD(_FILE), as for the services: compose gives the cli the password as a secret.
  const withPassword = withDatabasePassword(given, io.env);
  if (withPassword.problem !== undefined) throw new UsageError(withPassword.problem);
  const url = withPassword.url;
  const schema = (options['schema'] as string | undefined) ?? 'spec_service';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new UsageError(`--schema ${schema}: a schema name is lower-case letters, digits and _`);
  const { IdentityError, IdentityStore, userNameProblem } = await import('@campaigns/spec-service');
  const problem = userNameProblem(name);
  if (problem) throw new UsageError(problem);
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    connectionString: url,
    application_name: 'campaign admin bootstrap',
  });
  try {
    await client.connect();
  } catch (error) {
    throw new CliFailure(`cannot connect to ${redactUrl(url)}: ${(error as Error).message}`, 2);
  }
  try {
    const store = new IdentityStore(client, schema);
    await client.query('BEGIN');
    await store.ensureUser(name, true);
    const issued = await store.issueToken(name);
    await client.query('COMMIT');
    io.stderr(`${issued.user} is a site admin; token ${issued.id} (shown this once):\n`);
    report(io, format, issued, `${issued.token}\n`);
    return EXIT.ok;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof IdentityError) throw new CliFailure(error.message, 1);
    if ((error as { code?: string }).code === '42P01')
      throw new CliFailure(
        `there are no users in schema ${schema} of ${redactUrl(url)}: start spec-service once first (it creates them)`,
        1,
      );
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
