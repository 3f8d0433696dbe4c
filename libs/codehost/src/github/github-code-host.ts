import { withCustomRequest, GraphqlResponseError } from '@octokit/graphql';
import { RequestError } from '@octokit/request-error';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import { sleep } from '@campaigns/events';
import type {
  Changeset,
  ChangesetObservation,
  ChangesetRef,
  CodeHost,
  CodeHostCapabilities,
  CreateChangesetInput,
  EnsureForkInput,
  ListRepositoriesOptions,
  MergeChangesetInput,
  Page,
  PushBranchInput,
  PushPackInput,
  PushPackResult,
  RepositoryInfo,
  UpdateChangesetInput,
  WebhookDelivery,
  WebhookFacts,
  WebhookHeaders,
} from '../code-host.js';
import type { CodeHostConfig } from '../config.js';
import { CodeHostError, WebhookVerificationError, type CodeHostErrorContext } from '../errors.js';
import { parseRepositoryName, type RepositoryName } from '../repository-name.js';
import {
  advertisedRef,
  pushRefUpdate,
  ReceivePackHttpError,
  ZERO_OBJECT_ID,
} from '../git-http/receive-pack.js';
import { redact, type Secret } from '../secret.js';
import { pushCommitToBranch } from './git-push.js';
import { webhookFacts as githubWebhookFacts } from './webhook-facts.js';
import { decodeWebhookBody, webhookSignatureMatches } from './webhook-signature.js';
import { toCodeHostError } from './github-errors.js';
import { waitingOutRateLimits, type RateLimitPolicy } from './rate-limit-wait.js';
import {
  GET_REPOSITORY_QUERY,
  LIST_REPOSITORIES_QUERY,
  repositoryOrder,
  toRepositoryInfo,
  type GetRepositoryData,
  type ListRepositoriesData,
} from './repository-queries.js';
import {
  buildLoadChangesetsQuery,
  toObservation,
  type PullRequestNode,
} from './load-changesets.js';

const ThrottledOctokit = Octokit.plugin(throttling, retry);
const ReadsOctokit = Octokit.plugin(retry);

/** Tuning of the GitHub adapter; the defaults follow GitHub's guidance. */
export interface GithubCodeHostOptions {
  /** Retries of 5xx answers, resets and timeouts (default 3). */
  retries?: number;
  /** Base of the quadratic retry backoff in ms (default 1000: waits 1 s, 4 s, 9 s). */
  retryBaseMs?: number;
  /** Secondary-limit answers waited out per request before failing `rate_limited` (default 5). */
  secondaryLimitRetries?: number;
  /** A primary-limit wait up to this long is waited out; longer ones fail `rate_limited` (default 60 s). */
  maxPrimaryLimitWaitMs?: number;
  /** Minimum time between content-creating requests (default 1000, GitHub's advice). */
  writeSpacingMs?: number;
  /** Minimum time between requests that notify people, e.g. opening a PR, commenting (default 3000). */
  notificationSpacingMs?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** How long a new fork is waited for before `ensureFork` fails retryable (default 60 s). */
  forkReadyTimeoutMs?: number;
  /** Where diagnostics go (default: nowhere). Messages never contain the token. */
  log?: (message: string) => void;
}

type RestPull = Awaited<ReturnType<Octokit['rest']['pulls']['get']>>['data'];

/** `CodeHost` for GitHub and GitHub Enterprise Server (and the simulator). */
export class GithubCodeHost implements CodeHost {
  readonly id: string;
  readonly host: string;
  readonly capabilities: CodeHostCapabilities = {
    drafts: true,
    autoMerge: true,
    labels: true,
    forks: true,
  };

  readonly #config: CodeHostConfig;
  readonly #octokit: InstanceType<typeof ReadsOctokit>;
  readonly #graphql: ReturnType<typeof withCustomRequest>;
  readonly #reads: InstanceType<typeof ReadsOctokit>;
  readonly #readGraphql: ReturnType<typeof withCustomRequest>;
  readonly #maxPrimaryLimitWaitMs: number;
  readonly #forkReadyTimeoutMs: number;
  readonly #log: (message: string) => void;
  /** The token's user, read once: the default namespace of forks. */
  #viewer: Promise<string> | undefined;

  constructor(config: CodeHostConfig, options: GithubCodeHostOptions = {}) {
    this.#config = config;
    this.id = config.id;
    this.host = config.host;
    this.#maxPrimaryLimitWaitMs = options.maxPrimaryLimitWaitMs ?? 60_000;
    this.#forkReadyTimeoutMs = options.forkReadyTimeoutMs ?? 60_000;
    this.#log = options.log ?? (() => undefined);
    const secondaryLimitRetries = options.secondaryLimitRetries ?? 5;
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    const policy = { secondaryLimitRetries, maxPrimaryLimitWaitMs: this.#maxPrimaryLimitWaitMs };
    const writeSpacingMs = options.writeSpacingMs ?? 1000;
    const notificationSpacingMs = options.notificationSpacingMs ?? 3000;
    // Repository reads (listings, trees) get a client without plugin-throttling: it spaces every
    // POST as a content-creating write (GraphQL queries included) and its queues pass about 350
    // requests a second, a third of what indexing thousands of repositories needs. Rate limits
    // are waited out by `waitingOutRateLimits` instead, with the same policy.
    this.#reads = this.#unqueuedClient(config, timeoutMs, options, policy);
    // Writes follow GitHub's advice (content-creating requests spaced a second apart, three for
    // those that notify people) through plugin-throttling's queues. A host configured with no
    // spacing at all (a GitHub Enterprise Server without secondary limits, the simulator) is not
    // paced: its writes go out as the reconciler's lanes make them, through the same un-queued
    // client as the reads. Queued with zero spacing, every write and GraphQL query still passed
    // one at a time through a Bottleneck job and held a 1,000-changeset title change to about
    // 85 updates a second on this machine.
    this.#octokit =
      writeSpacingMs === 0 && notificationSpacingMs === 0
        ? this.#reads
        : new ThrottledOctokit({
            ...this.#clientOptions(config, timeoutMs),
            retry: {
              retries: options.retries ?? 3,
              retryAfterBaseValue: options.retryBaseMs ?? 1000,
            },
            throttle: {
              id: `campaigns-${config.id}`,
              write: new Bottleneck.Group({ maxConcurrent: 1, minTime: writeSpacingMs }),
              notifications: new Bottleneck.Group({
                maxConcurrent: 1,
                minTime: notificationSpacingMs,
              }),
              onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
                const wait = retryCount < secondaryLimitRetries;
                this.#log(
                  `${config.id}: secondary rate limit on ${request.method} ${request.url}; ${wait ? `waiting ${retryAfter}s` : 'giving up'}`,
                );
                return wait;
              },
              onRateLimit: (retryAfter, request, _octokit, retryCount) => {
                const wait = retryCount < 1 && retryAfter * 1000 <= this.#maxPrimaryLimitWaitMs;
                this.#log(
                  `${config.id}: primary rate limit on ${request.method} ${request.url}; ${wait ? `waiting ${retryAfter}s` : 'surfacing the wait'}`,
                );
                return wait;
              },
            },
          });
    // @octokit/graphql refuses `url` as an option per call; the endpoint is a default instead.
    this.#graphql = withCustomRequest(this.#octokit.request).defaults({ url: config.graphqlUrl });
    this.#readGraphql = withCustomRequest(this.#reads.request).defaults({
      url: config.graphqlUrl,
    });
  }

  /** What both clients share: the token, endpoint, agent, logging and a per-request timeout. */
  #clientOptions(config: CodeHostConfig, timeoutMs: number) {
    return {
      auth: config.token.reveal(),
      baseUrl: config.apiUrl,
      userAgent: 'campaigns-codehost',
      // Octokit's own request log goes where ours does, not to the console.
      log: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => this.#log(`${config.id}: ${message}`),
        error: (message: string) => this.#log(`${config.id}: ${message}`),
      },
      request: {
        fetch: (url: string | URL, init?: RequestInit) =>
          fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
      },
    };
  }

  /** A client without queues: retries server errors, waits out rate limits by the policy. */
  #unqueuedClient(
    config: CodeHostConfig,
    timeoutMs: number,
    options: GithubCodeHostOptions,
    policy: RateLimitPolicy,
  ): InstanceType<typeof ReadsOctokit> {
    const client = new ReadsOctokit({
      ...this.#clientOptions(config, timeoutMs),
      retry: {
        retries: options.retries ?? 3,
        retryAfterBaseValue: options.retryBaseMs ?? 1000,
        // Rate-limit answers are the hook's to wait out, not retries with a backoff.
        doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      },
    });
    client.hook.wrap(
      'request',
      waitingOutRateLimits(policy, (message) => this.#log(`${config.id}: ${message}`)),
    );
    return client;
  }

  async listRepositories(options: ListRepositoriesOptions): Promise<Page<RepositoryInfo>> {
    const context = { operation: `list repositories of ${options.owner}` };
    const data = await this.#graphqlWithRateLimit<ListRepositoriesData>(
      LIST_REPOSITORIES_QUERY,
      {
        owner: options.owner,
        first: Math.min(options.perPage ?? 100, 100),
        after: options.cursor ?? null,
        orderBy: repositoryOrder(options.orderBy ?? 'name', options.direction ?? 'asc'),
      },
      context,
      true,
      this.#readGraphql,
    );
    const connection = data.repositoryOwner?.repositories;
    if (connection === undefined) {
      throw new CodeHostError(
        'terminal',
        `404 not found: no organization or user ${options.owner} — it does not exist or the token cannot see it`,
        { ...context, status: 404 },
      );
    }
    const { hasNextPage, endCursor } = connection.pageInfo;
    return {
      items: connection.nodes.flatMap((node) =>
        node === null ? [] : [toRepositoryInfo(this.host, node)],
      ),
      ...(hasNextPage && endCursor !== null ? { nextCursor: endCursor } : {}),
    };
  }

  async getRepository(repo: string): Promise<RepositoryInfo> {
    const r = this.#parse(repo);
    const context = { operation: 'get repository', repo };
    const data = await this.#graphqlWithRateLimit<GetRepositoryData>(
      GET_REPOSITORY_QUERY,
      { owner: r.owner, name: r.name },
      context,
      true,
      this.#readGraphql,
    );
    if (data.repository === null) {
      throw new CodeHostError(
        'terminal',
        `404 not found: no repository ${r.owner}/${r.name} — it does not exist or the token cannot see it`,
        { ...context, status: 404 },
      );
    }
    return toRepositoryInfo(this.host, data.repository);
  }

  async listFiles(repo: string, ref: string): Promise<string[]> {
    const r = this.#parse(repo);
    return this.#call({ operation: `list files at ${ref}`, repo }, async () => {
      const { data } = await this.#reads.rest.git.getTree({
        owner: r.owner,
        repo: r.name,
        tree_sha: ref,
        recursive: '1',
      });
      if (data.truncated) {
        throw new CodeHostError(
          'terminal',
          `the tree at ${ref} is too large to list in one request`,
          {
            operation: `list files at ${ref}`,
            repo,
          },
        );
      }
      return data.tree
        .filter((entry) => entry.type === 'blob' && entry.path !== undefined)
        .map((e) => e.path!);
    });
  }

  async findOpenChangeset(
    repo: string,
    headBranch: string,
    headRepository?: string,
  ): Promise<Changeset | undefined> {
    const r = this.#parse(repo);
    const head = this.#headOf(r, headBranch, headRepository);
    const from = headRepository === undefined ? headBranch : head;
    return this.#call({ operation: `find open pull request from ${from}`, repo }, async () => {
      const { data } = await this.#octokit.rest.pulls.list({
        owner: r.owner,
        repo: r.name,
        state: 'open',
        head,
        per_page: 1,
      });
      const found = data[0];
      return found === undefined
        ? undefined
        : this.#toChangeset(repo, found as unknown as RestPull);
    });
  }

  async createChangeset(input: CreateChangesetInput): Promise<Changeset> {
    const r = this.#parse(input.repo);
    const head = this.#headOf(r, input.head, input.headRepository);
    const from = input.headRepository === undefined ? input.head : head;
    const context = { operation: `create pull request from ${from}`, repo: input.repo };
    try {
      const { data } = await this.#octokit.rest.pulls.create({
        owner: r.owner,
        repo: r.name,
        head,
        base: input.base,
        title: input.title,
        body: input.body,
        draft: input.draft,
        // Not retried here: a request that timed out or failed with a server error may have
        // opened the pull request and counted against the content-creation limits, which the
        // rollout planner budgeted once. The next round reads what happened (an open pull
        // request from the branch is found and kept) and is budgeted again.
        request: { retries: 0 },
      });
      return this.#toChangeset(input.repo, data);
    } catch (error) {
      // Opened before: by an attempt that crashed after creating it, a retried request whose
      // answer was lost, another reconciler, or a person. It is the changeset's PR.
      if (isPullRequestAlreadyExists(error)) {
        const existing = await this.findOpenChangeset(input.repo, input.head, input.headRepository);
        if (existing !== undefined) return existing;
      }
      throw toCodeHostError(error, context);
    }
  }

  async updateChangeset(input: UpdateChangesetInput): Promise<Changeset> {
    return this.#updatePull(input, 'update pull request', {
      ...(input.title === undefined ? {} : { title: input.title }),
      ...(input.body === undefined ? {} : { body: input.body }),
      ...(input.base === undefined ? {} : { base: input.base }),
    });
  }

  closeChangeset(ref: ChangesetRef): Promise<Changeset> {
    return this.#updatePull(ref, 'close pull request', { state: 'closed' });
  }

  reopenChangeset(ref: ChangesetRef): Promise<Changeset> {
    return this.#updatePull(ref, 'reopen pull request', { state: 'open' });
  }

  markReadyForReview(ref: ChangesetRef): Promise<Changeset> {
    return this.#draftMutation(ref, 'markPullRequestReadyForReview', 'mark ready for review');
  }

  convertToDraft(ref: ChangesetRef): Promise<Changeset> {
    return this.#draftMutation(ref, 'convertPullRequestToDraft', 'convert to draft');
  }

  async mergeChangeset(input: MergeChangesetInput): Promise<{ sha: string }> {
    const r = this.#parse(input.repo);
    return this.#call(
      { operation: 'merge pull request', repo: input.repo, number: input.number },
      async () => {
        const { data } = await this.#octokit.rest.pulls.merge({
          owner: r.owner,
          repo: r.name,
          pull_number: input.number,
          merge_method: input.method ?? 'merge',
          ...(input.expectedHeadSha === undefined ? {} : { sha: input.expectedHeadSha }),
          // Not retried here: 405 (not mergeable) and 409 (the head moved) are the host's
          // answer, which a retry only delays, and a merge that failed otherwise may still have
          // happened; the caller reads the pull request again before deciding anything.
          request: { retries: 0 },
        });
        return { sha: data.sha };
      },
    );
  }

  async enableAutoMerge(input: MergeChangesetInput): Promise<void> {
    const r = this.#parse(input.repo);
    const context = { operation: 'enable auto-merge', repo: input.repo, number: input.number };
    const pull = await this.#call(context, async () => {
      const { data } = await this.#octokit.rest.pulls.get({
        owner: r.owner,
        repo: r.name,
        pull_number: input.number,
      });
      return data;
    });
    await this.#graphqlWithRateLimit(
      `mutation($id: ID!, $mergeMethod: PullRequestMergeMethod, $head: GitObjectID) {
        enablePullRequestAutoMerge(
          input: { pullRequestId: $id, mergeMethod: $mergeMethod, expectedHeadOid: $head }
        ) { pullRequest { id } }
      }`,
      {
        id: pull.node_id,
        mergeMethod: (input.method ?? 'merge').toUpperCase(),
        head: input.expectedHeadSha ?? null,
      },
      context,
      false,
    );
  }

  async comment(ref: ChangesetRef & { body: string }): Promise<{ id: number; url: string }> {
    const r = this.#parse(ref.repo);
    return this.#call(
      { operation: 'comment on pull request', repo: ref.repo, number: ref.number },
      async () => {
        const { data } = await this.#octokit.rest.issues.createComment({
          owner: r.owner,
          repo: r.name,
          issue_number: ref.number,
          body: ref.body,
          // Not retried here: a comment whose answer was lost may have been posted.
          request: { retries: 0 },
        });
        return { id: data.id, url: data.html_url };
      },
    );
  }

  async loadChangesets(refs: readonly ChangesetRef[]): Promise<ChangesetObservation[]> {
    const observations: ChangesetObservation[] = [];
    for (let start = 0; start < refs.length; start += 100) {
      const batch = refs
        .slice(start, start + 100)
        .map((ref) => ({ ...ref, name: this.#parse(ref.repo) }));
      const { query, variables } = buildLoadChangesetsQuery(
        batch.map((b) => ({ ...b.name, number: b.number })),
      );
      const context = { operation: `load ${batch.length} pull requests` };
      const data = await this.#graphqlWithRateLimit<
        Record<string, { pullRequest: PullRequestNode | null } | null>
      >(query, variables, context, true);
      batch.forEach((ref, i) => {
        const node = data[`r${i}`]?.pullRequest;
        if (node) observations.push(toObservation(ref.repo, node));
      });
    }
    return observations;
  }

  /**
   * Looks for the fork first (`GET /repos/{namespace}/{name}`), so a fork made before costs one
   * read; otherwise asks GitHub to make it (`POST /repos/{owner}/{repo}/forks`, into
   * `organization` when the namespace is not the token's user) and reads it until GitHub serves
   * it: GitHub answers 202 and makes forks in the background. The fork is named
   * `<owner>-<name>` (`forkName`), so forks of two repositories with one name do not collide
   * in the namespace; GitHub answers with the account's fork of the network when there is one
   * already, whatever its name, and that one is used.
   */
  async ensureFork(input: EnsureForkInput): Promise<string> {
    const upstream = this.#parse(input.repo);
    const context = { operation: 'fork repository', repo: input.repo };
    const viewer = await this.#viewerLogin(context);
    const namespace = input.namespace ?? viewer;
    const name = forkName(upstream);
    const existing = await this.#readRepository(namespace, name, context);
    if (existing !== null) {
      if (!isForkOf(existing, upstream)) {
        throw new CodeHostError(
          'terminal',
          `${namespace}/${name} exists and is not a fork of ${upstream.owner}/${upstream.name}; rename or remove it, or set another forkNamespace`,
          context,
        );
      }
      return `${this.host}/${existing.full_name}`;
    }
    const created = await this.#call(context, async () => {
      const { data } = await this.#octokit.rest.repos.createFork({
        owner: upstream.owner,
        repo: upstream.name,
        name,
        default_branch_only: true,
        ...(namespace.toLowerCase() === viewer.toLowerCase() ? {} : { organization: namespace }),
      });
      return data;
    });
    const [forkOwner, forkRepo] = created.full_name.split('/') as [string, string];
    const deadline = Date.now() + this.#forkReadyTimeoutMs;
    for (let waitMs = 250; ; waitMs = Math.min(waitMs * 2, 5000)) {
      if ((await this.#readRepository(forkOwner, forkRepo, context)) !== null)
        return `${this.host}/${created.full_name}`;
      if (Date.now() + waitMs > deadline) {
        throw new CodeHostError(
          'retryable',
          `GitHub accepted the fork ${created.full_name} but did not serve it within ${Math.round(this.#forkReadyTimeoutMs / 1000)} s`,
          context,
        );
      }
      this.#log(`${this.id}: waiting ${waitMs} ms for the fork ${created.full_name}`);
      await sleep(waitMs);
    }
  }

  /** The repository's REST representation, or null when GitHub answers 404. */
  async #readRepository(owner: string, name: string, context: CodeHostErrorContext) {
    try {
      const { data } = await this.#reads.rest.repos.get({ owner, repo: name });
      return data;
    } catch (error) {
      if (error instanceof RequestError && error.status === 404) return null;
      throw toCodeHostError(error, context);
    }
  }

  #viewerLogin(context: CodeHostErrorContext): Promise<string> {
    this.#viewer ??= this.#call(context, async () => {
      const { data } = await this.#reads.rest.users.getAuthenticated();
      return data.login;
    });
    // A failed read is not kept: the next call asks again.
    return this.#viewer.catch((error: unknown) => {
      this.#viewer = undefined;
      throw error;
    });
  }

  /** `head` as GitHub's pulls API takes it: `owner:branch`, the owner being the fork's if any. */
  #headOf(upstream: RepositoryName, branch: string, headRepository: string | undefined): string {
    const owner = headRepository === undefined ? upstream.owner : this.#parse(headRepository).owner;
    return `${owner}:${branch}`;
  }

  async pushBranch(input: PushBranchInput): Promise<void> {
    const r = this.#parse(input.repo);
    await pushCommitToBranch({
      remoteUrl: `${this.#config.url}/${r.owner}/${r.name}.git`,
      localRepoPath: input.localRepoPath,
      commitSha: input.commitSha,
      branch: input.branch,
      force: input.force,
      token: this.#config.token,
      repo: input.repo,
    });
  }

  async pushPack(input: PushPackInput): Promise<PushPackResult> {
    const r = this.#parse(input.repo);
    const target = {
      url: `${this.#config.url}/${r.owner}/${r.name}.git`,
      token: this.#config.token.reveal(),
    };
    const ref = `refs/heads/${input.branch}`;
    const context = { operation: `push ${input.branch}`, repo: input.repo };
    const update = (oldSha: string) =>
      pushRefUpdate(target, { ref, oldSha, newSha: input.commitSha }, input.pack);
    try {
      const believed = input.expectedOldSha ?? ZERO_OBJECT_ID;
      let report = await update(believed);
      if (report.status === 'ref-rejected') {
        // Someone else moved (or deleted) the branch, or a crashed attempt already pushed:
        // learn where it is and replace it, as a forced push does.
        const actual = await advertisedRef(target, ref);
        if (actual === input.commitSha) return { status: 'pushed' };
        if (actual !== believed) report = await update(actual);
      }
      if (report.status === 'ok') return { status: 'pushed' };
      return { status: 'refused', reason: redact(report.reason, [this.#config.token]) };
    } catch (error) {
      if (!(error instanceof ReceivePackHttpError)) throw error;
      throw receivePackError(error, context, this.#config.token);
    }
  }

  verifyWebhook(headers: WebhookHeaders, rawBody: Uint8Array): Promise<void> {
    try {
      this.#verifyWebhook(headers, rawBody);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  #verifyWebhook(headers: WebhookHeaders, rawBody: Uint8Array): void {
    const secret = this.#config.webhookSecret;
    if (secret === undefined) {
      throw new WebhookVerificationError(
        'no_secret',
        `code host ${this.id} has no webhook secret configured (webhookSecretEnv)`,
      );
    }
    const signature = header(headers, 'x-hub-signature-256');
    if (signature === undefined) {
      throw new WebhookVerificationError(
        'missing_signature',
        'the webhook has no X-Hub-Signature-256 header',
      );
    }
    if (!webhookSignatureMatches(secret.reveal(), rawBody, signature)) {
      throw new WebhookVerificationError(
        'bad_signature',
        `the webhook's X-Hub-Signature-256 does not match the secret of code host ${this.id}`,
      );
    }
  }

  async parseWebhook(headers: WebhookHeaders, rawBody: Uint8Array): Promise<WebhookDelivery> {
    this.#verifyWebhook(headers, rawBody);
    const id = header(headers, 'x-github-delivery');
    const event = header(headers, 'x-github-event');
    if (id === undefined || event === undefined) {
      throw new WebhookVerificationError(
        'bad_payload',
        'the webhook lacks X-GitHub-Delivery or X-GitHub-Event',
      );
    }
    // Parsed only now that the signature says the bytes are the code host's.
    const text = decodeWebhookBody(rawBody);
    let payload: unknown;
    try {
      payload = text === undefined ? undefined : JSON.parse(text);
    } catch {
      payload = undefined;
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new WebhookVerificationError('bad_payload', 'the webhook body is not a JSON object');
    }
    const body = payload as Record<string, unknown>;
    const repository = body['repository'] as { full_name?: unknown } | undefined;
    const fullName = typeof repository?.full_name === 'string' ? repository.full_name : undefined;
    const action = typeof body['action'] === 'string' ? body['action'] : undefined;
    return {
      id,
      event,
      ...(action === undefined ? {} : { action }),
      ...(fullName === undefined ? {} : { repo: `${this.host}/${fullName}` }),
      payload: body,
    };
  }

  webhookFacts(delivery: WebhookDelivery): WebhookFacts | null {
    return githubWebhookFacts(delivery);
  }

  /** `toString`, JSON and inspection name the host, never the token. */
  toString(): string {
    return `GithubCodeHost(${this.id}, ${this.host})`;
  }

  toJSON(): Record<string, unknown> {
    return { id: this.id, host: this.host, kind: 'github' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  async #updatePull(
    ref: ChangesetRef,
    operation: string,
    fields: Record<string, string>,
  ): Promise<Changeset> {
    const r = this.#parse(ref.repo);
    return this.#call({ operation, repo: ref.repo, number: ref.number }, async () => {
      const { data } = await this.#octokit.rest.pulls.update({
        owner: r.owner,
        repo: r.name,
        pull_number: ref.number,
        ...fields,
      });
      return this.#toChangeset(ref.repo, data);
    });
  }

  async #draftMutation(
    ref: ChangesetRef,
    mutation: 'markPullRequestReadyForReview' | 'convertPullRequestToDraft',
    operation: string,
  ): Promise<Changeset> {
    const r = this.#parse(ref.repo);
    const context = { operation, repo: ref.repo, number: ref.number };
    const pull = await this.#call(context, async () => {
      const { data } = await this.#octokit.rest.pulls.get({
        owner: r.owner,
        repo: r.name,
        pull_number: ref.number,
      });
      return data;
    });
    await this.#graphqlWithRateLimit(
      `mutation($id: ID!) { ${mutation}(input: { pullRequestId: $id }) { pullRequest { id } } }`,
      { id: pull.node_id },
      context,
      false,
    );
    return {
      ...this.#toChangeset(ref.repo, pull),
      isDraft: mutation === 'convertPullRequestToDraft',
    };
  }

  /**
   * GraphQL through the throttled, retried request. GitHub answers an exhausted GraphQL budget
   * with 200 and a `RATE_LIMITED` error (nothing was executed, so retrying is safe), which
   * plugin-throttling recognises only on `/graphql`, not GHES's `/api/graphql`: the wait until
   * `x-ratelimit-reset` is handled here. With `partial`, NOT_FOUND errors leave their alias null.
   */
  async #graphqlWithRateLimit<T>(
    query: string,
    variables: Record<string, unknown>,
    context: CodeHostErrorContext,
    partial: boolean,
    client = this.#graphql,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await client<T>(query, variables);
      } catch (error) {
        if (partial && error instanceof GraphqlResponseError && onlyNotFound(error) && error.data) {
          return error.data as T;
        }
        const mapped = toCodeHostError(error, context);
        const waitMs = mapped.retryAfterMs ?? 0;
        if (mapped.kind !== 'rate_limited' || attempt >= 1 || waitMs > this.#maxPrimaryLimitWaitMs)
          throw mapped;
        this.#log(
          `${this.id}: GraphQL rate limit during ${context.operation}; waiting ${waitMs} ms`,
        );
        await sleep(waitMs);
      }
    }
  }

  async #call<T>(context: CodeHostErrorContext, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw toCodeHostError(error, context);
    }
  }

  #parse(repo: string): RepositoryName {
    const name = parseRepositoryName(repo);
    if (name.host !== this.host) {
      throw new CodeHostError(
        'terminal',
        `the repository is not on code host ${this.id} (${this.host})`,
        {
          operation: 'resolve repository',
          repo,
        },
      );
    }
    return name;
  }

  #toChangeset(repo: string, data: RestPull): Changeset {
    return {
      repo,
      number: data.number,
      nodeId: data.node_id,
      url: data.html_url,
      state: data.merged_at ? 'MERGED' : data.state === 'open' ? 'OPEN' : 'CLOSED',
      isDraft: data.draft ?? false,
      title: data.title,
      body: data.body ?? '',
      headRefName: data.head.ref,
      baseRefName: data.base.ref,
      headRefOid: data.head.sha,
    };
  }
}

/**
 * The name of a fork of `upstream`: `<owner>-<name>`, as Sourcegraph names them, so that forks
 * of `acme/api` and `other/api` can live in one namespace.
 */
export function forkName(upstream: { owner: string; name: string }): string {
  return `${upstream.owner}-${upstream.name}`;
}

/** Whether a repository's REST representation is a fork in `upstream`'s network. */
function isForkOf(
  repository: { fork: boolean; parent?: { full_name: string }; source?: { full_name: string } },
  upstream: RepositoryName,
): boolean {
  const full = `${upstream.owner}/${upstream.name}`.toLowerCase();
  return (
    repository.fork &&
    [repository.parent?.full_name, repository.source?.full_name].some(
      (name) => name?.toLowerCase() === full,
    )
  );
}

/** GitHub's 422 for a second PR from the same head to the same base. */
function isPullRequestAlreadyExists(error: unknown): boolean {
  if (!(error instanceof RequestError) || error.status !== 422) return false;
  const data = error.response?.data as
    { message?: string; errors?: { message?: string }[] } | undefined;
  const messages = [data?.message, ...(data?.errors ?? []).map((e) => e.message)];
  return messages.some((m) => m !== undefined && /a pull request already exists/i.test(m));
}

/** An HTTP failure of a smart-HTTP push, classified like the REST API's. */
function receivePackError(
  error: ReceivePackHttpError,
  context: CodeHostErrorContext,
  token: Secret,
): CodeHostError {
  const message = `git receive-pack ${redact(error.message, [token])}`;
  const ctx = error.status === 0 ? context : { ...context, status: error.status };
  if (error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429) {
    return new CodeHostError('retryable', message, ctx, { cause: error });
  }
  const hint =
    error.status === 401 || /denied/i.test(error.message) ? " — check the code host's token" : '';
  return new CodeHostError('terminal', `${message}${hint}`, ctx, { cause: error });
}

function onlyNotFound(error: GraphqlResponseError<unknown>): boolean {
  const errors = (error.errors ?? []) as { type?: string }[];
  return errors.length > 0 && errors.every((e) => e.type === 'NOT_FOUND');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
