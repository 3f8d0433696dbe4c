import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { RATE_HINT, RATE_PATTERN } from '@campaigns/campaign-spec';
import { campaignRefOf, NAMESPACE_PATTERN, readSecretVariable } from '@campaigns/events';
import { hostOfUrl, parseRepositoryName } from './repository-name.js';
import {
  GITHUB_CONTENT_LIMITS,
  parseTimeOfDay,
  parseWeekday,
  rolloutWindow,
  type RolloutPolicy,
} from './rollout-windows.js';
import { Secret } from './secret.js';

const envVarName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must be the name of an environment variable, e.g. GITHUB_TOKEN',
  );
const httpUrl = z
  .string()
  .url('must be a URL, e.g. https://github.com')
  .refine((url) => /^https?:\/\//.test(url), 'must be an http(s) URL');

const timeOfDay = z
  .string()
  .refine((t) => parseTimeOfDay(t) !== null, 'must be a UTC time of day as HH:MM, e.g. "06:00"');

const rolloutWindowSchema = z
  .strictObject({
    rate: z
      .union([z.string(), z.number()])
      .transform(String)
      .refine((r) => RATE_PATTERN.test(r), RATE_HINT),
    days: z
      .array(
        z
          .string()
          .refine((d) => parseWeekday(d) !== null, 'must be a weekday, e.g. "monday" or "sat"'),
      )
      .min(1, 'list at least one day, or leave days out for every day')
      .optional(),
    start: timeOfDay.optional(),
    end: timeOfDay.optional(),
  })
  .refine((w) => (w.start === undefined) === (w.end === undefined), {
    message: 'set both start and end, or neither (the whole day)',
    path: ['end'],
  })
  .refine(
    (w) =>
      w.start === undefined ||
      w.end === undefined ||
      parseTimeOfDay(w.start)! < parseTimeOfDay(w.end)!,
    {
      message: 'must be after start (a window across midnight is two windows)',
      path: ['end'],
    },
  );

const contentLimitsSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      perMinute: z.number().int().positive(),
      perHour: z.number().int().positive(),
    }),
  ],
  { error: 'must be false or { perMinute: N, perHour: N }' },
);

const codeHostEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  kind: z.literal('github', { error: 'kind must be "github" (the only code host supported yet)' }),
  url: httpUrl,
  apiUrl: httpUrl,
  graphqlUrl: httpUrl.optional(),
  tokenEnv: envVarName,
  webhookSecretEnv: envVarName.optional(),
  organizations: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be an organization or user login'))
    .optional(),
  fork: z.boolean({ error: 'must be true or false' }).optional(),
  forkNamespace: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be an organization or user login')
    .optional(),
  rolloutWindows: z.array(rolloutWindowSchema).nullable().optional(),
  contentLimits: contentLimitsSchema.optional(),
  /** A namespace's own token: its campaigns push and publish with it instead of tokenEnv's. */
  namespaces: z
    .record(z.string(), z.strictObject({ tokenEnv: envVarName }))
    .superRefine((namespaces, ctx) => {
      for (const key of Object.keys(namespaces))
        if (!NAMESPACE_PATTERN.test(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'must be a namespace: a user or organization name',
          });
    })
    .optional(),
});

const configFileSchema = z.strictObject({
  codeHosts: z.array(codeHostEntrySchema).min(1, 'list at least one code host'),
});

/** One configured code host, with its credentials read from the environment. */
export interface CodeHostConfig {
  id: string;
  kind: 'github';
  /** Web and git base URL, e.g. https://github.com. */
  url: string;
  /** REST base URL, e.g. https://api.github.com or https://ghes.example.com/api/v3. */
  apiUrl: string;
  /** GraphQL endpoint; derived from `apiUrl` when absent. */
  graphqlUrl: string;
  /** `host[:port]` of `url`: the first part of this host's repository names. */
  host: string;
  tokenEnv: string;
  token: Secret;
  /**
   * Namespaces with a token of their own on this host (`namespaces: {NS: {tokenEnv}}`): their
   * campaigns write with it; every other campaign, and reads for the site, with `token`.
   */
  namespaceTokens?: Readonly<Record<string, { tokenEnv: string; token: Secret }>>;
  webhookSecretEnv?: string;
  webhookSecret?: Secret;
  /**
   * Organizations (or users) whose repositories the repository index lists, so that
   * `repositoriesMatchingQuery` can find them; explicit `repository:` entries need none.
   */
  organizations: string[];
  /**
   * Push every changeset's branch to a fork and open its pull request from there, unless its
   * spec's `changesetTemplate.fork` says otherwise (the spec overrides this default).
   */
  fork: boolean;
  /** The organization (or user) forks are made in; the token's own user when absent. */
  forkNamespace?: string;
  /**
   * How publications to this host are paced: its rollout windows (none: any time) and its
   * content-creation limits (GitHub's 80 a minute and 500 an hour unless configured).
   */
  rollout: RolloutPolicy;
}

export interface CampaignsConfig {
  codeHosts: CodeHostConfig[];
}

/** One problem in the config file, with its position (1-based) when it has one. */
export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
  col?: number;
}

/** The config file is unreadable or invalid; the message lists every problem as file:line:col. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file}: invalid Campaigns configuration\n` +
        problems
          .map((p) => {
            const at = p.line === undefined ? file : `${file}:${p.line}:${p.col}`;
            return `  ${at}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
          })
          .join('\n'),
    );
  }
}

/** Reads the config file named by `CAMPAIGNS_CONFIG` (default `campaigns.config.yaml`). */
export async function loadCampaignsConfig(
  env: NodeJS.ProcessEnv = process.env,
): Promise<CampaignsConfig> {
  const file = env['CAMPAIGNS_CONFIG'] ?? 'campaigns.config.yaml';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(file, [
      { path: '', message: `${reason} (set CAMPAIGNS_CONFIG to the config file's path)` },
    ]);
  }
  return parseCampaignsConfig(text, file, env);
}

/** Parses and validates config text; tokens and secrets come from `env`. */
export function parseCampaignsConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): CampaignsConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0] ?? e.message, line, col };
      }),
    );
  }
  const at = (path: readonly PropertyKey[]) => positionOf(doc, lineCounter, path);
  const parsed = configFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => {
        const path =
          issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown field "${issue.keys.join('", "')}"`
            : issue.message;
        return { path: formatPath(path), message, ...at(path) };
      }),
    );
  }

  const problems: ConfigProblem[] = [];
  const seenIds = new Map<string, number>();
  const seenHosts = new Map<string, string>();
  const codeHosts: CodeHostConfig[] = [];
  // A variable (or the file its _FILE twin names) that is unset, unreadable, or too short to be
  // redacted (secret-policy.ts), is a problem.
  const readSecret = (index: number, field: readonly PropertyKey[], name: string) => {
    const read = readSecretVariable(env, name);
    if (read.problem === undefined) return new Secret(read.value);
    const path = ['codeHosts', index, ...field];
    problems.push({ path: formatPath(path), message: read.problem, ...at(path) });
    return undefined;
  };
  parsed.data.codeHosts.forEach((entry, index) => {
    const duplicate = (field: string, message: string) => {
      const path = ['codeHosts', index, field];
      problems.push({ path: formatPath(path), message, ...at(path) });
    };
    if (seenIds.has(entry.id))
      duplicate('id', `id "${entry.id}" is already used by codeHosts[${seenIds.get(entry.id)}]`);
    seenIds.set(entry.id, index);
    const host = hostOfUrl(entry.url);
    const other = seenHosts.get(host);
    if (other !== undefined) duplicate('url', `host ${host} is already configured as "${other}"`);
    seenHosts.set(host, entry.id);
    const token = readSecret(index, ['tokenEnv'], entry.tokenEnv);
    const webhookSecret =
      entry.webhookSecretEnv === undefined
        ? undefined
        : readSecret(index, ['webhookSecretEnv'], entry.webhookSecretEnv);
    const namespaceTokens: Record<string, { tokenEnv: string; token: Secret }> = {};
    for (const [namespace, { tokenEnv }] of Object.entries(entry.namespaces ?? {})) {
      const secret = readSecret(index, ['namespaces', namespace, 'tokenEnv'], tokenEnv);
      if (secret !== undefined) namespaceTokens[namespace] = { tokenEnv, token: secret };
    }
    if (token === undefined) return;
    codeHosts.push({
      id: entry.id,
      kind: entry.kind,
      url: entry.url.replace(/\/+$/, ''),
      apiUrl: entry.apiUrl.replace(/\/+$/, ''),
      graphqlUrl: entry.graphqlUrl ?? defaultGraphqlUrl(entry.apiUrl),
      host,
      tokenEnv: entry.tokenEnv,
      token,
      organizations: entry.organizations ?? [],
      fork: entry.fork ?? false,
      rollout: {
        windows:
          entry.rolloutWindows === undefined || entry.rolloutWindows === null
            ? null
            : entry.rolloutWindows.map(rolloutWindow),
        contentLimits:
          entry.contentLimits === false ? null : (entry.contentLimits ?? GITHUB_CONTENT_LIMITS),
      },
      ...(entry.namespaces === undefined ? {} : { namespaceTokens }),
      ...(entry.forkNamespace === undefined ? {} : { forkNamespace: entry.forkNamespace }),
      ...(entry.webhookSecretEnv === undefined ? {} : { webhookSecretEnv: entry.webhookSecretEnv }),
      ...(webhookSecret === undefined ? {} : { webhookSecret }),
    });
  });
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { codeHosts };
}

/** github.com's GraphQL is api.github.com/graphql; GHES serves it at /api/graphql beside /api/v3. */
export function defaultGraphqlUrl(apiUrl: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return base.endsWith('/api/v3') ? `${base.slice(0, -'/v3'.length)}/graphql` : `${base}/graphql`;
}

/**
 * The host's configuration as a campaign (by its key, `NS/NAME`) writes with it: with its
 * namespace's token when the host has one for it, else as configured (the site-wide token).
 */
export function codeHostConfigForCampaign(
  config: CodeHostConfig,
  campaign: string,
): CodeHostConfig {
  const own = config.namespaceTokens?.[campaignRefOf(campaign).namespace];
  return own === undefined ? config : { ...config, tokenEnv: own.tokenEnv, token: own.token };
}

/** Maps host-qualified repository names to their configured code host. */
export class CodeHostResolver {
  readonly #byHost = new Map<string, CodeHostConfig>();

  constructor(config: CampaignsConfig) {
    for (const host of config.codeHosts) this.#byHost.set(host.host, host);
  }

  /**
   * The code host serving `HOST/OWNER/NAME` (as `campaign` writes with it, when given); throws
   * naming the configured hosts when none does.
   */
  resolve(qualifiedName: string, campaign?: string): CodeHostConfig {
    const { host } = parseRepositoryName(qualifiedName);
    const found = this.#byHost.get(host);
    if (found === undefined) {
      const known = [...this.#byHost.keys()].join(', ') || 'none';
      throw new Error(
        `no code host is configured for ${qualifiedName} (configured hosts: ${known})`,
      );
    }
    return campaign === undefined ? found : codeHostConfigForCampaign(found, campaign);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/** The position of the deepest node on `path` that exists (a missing field points at its parent). */
function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
): { line?: number; col?: number } {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown =
      length === 0 ? doc.contents : doc.getIn(path.slice(0, length) as unknown[], true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, col };
    }
  }
  return {};
}
