import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { validate } from '@octokit/graphql-schema';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import type { PullRequest } from '../state/model.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../webhooks/test-support/webhook-receiver.js';
import { webhookSchemaErrors } from '../webhooks/test-support/webhook-schemas.js';
import { webhooksPlugin, type WebhooksPlugin } from '../webhooks/webhooks-plugin.js';
import { graphqlPlugin } from './graphql-plugin.js';
import {
  graphqlErrors,
  rawGraphql,
  simGraphql,
  type GraphqlCall,
} from './test-support/github-graphql.js';

const ALICE = 'alice-token';
const BOB = 'bob-token';
const SECRET = 'graphql-webhooks-secret';

let sim: GithubSim;
let webhooks: WebhooksPlugin;
let receiver: WebhookReceiver;
let alice: GraphqlCall;
let bob: GraphqlCall;
let branchCount = 0;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  webhooks = webhooksPlugin({ retry: { maxAttempts: 1 } });
  sim = await startGithubSim({
    plugins: [graphqlPlugin(), webhooks],
    seed: {
      users: [
        { login: 'alice', name: 'Alice', email: 'alice@example.com' },
        { login: 'bob', name: 'Bob', email: 'bob@example.com' },
      ],
      orgs: [{ login: 'acme', members: ['alice'] }],
      tokens: [
        { token: ALICE, login: 'alice' },
        { token: BOB, login: 'bob' },
      ],
      repositories: [
        { owner: 'acme', name: 'widgets', files: { 'README.md': '# Widgets\n' } },
        {
          owner: 'acme',
          name: 'secrets',
          visibility: 'private',
          files: { 'README.md': '# Secrets\n' },
        },
      ],
    },
  });
  await sim.control.createHook({
    owner: 'acme',
    name: 'widgets',
    url: receiver.url,
    secret: SECRET,
    events: ['*'],
  });
  alice = simGraphql(sim, ALICE);
  bob = simGraphql(sim, BOB);
});

afterAll(async () => {
  await sim?.stop();
  await receiver?.close();
});

/** A new branch with one commit and a pull request from it, as alice would open it. */
async function openPullRequest(
  options: { draft?: boolean; repo?: string } = {},
): Promise<PullRequest> {
  const name = options.repo ?? 'widgets';
  const branch = `change-${++branchCount}`;
  await sim.control.pushCommit({
    owner: 'acme',
    name,
    branch,
    files: { [`${branch}.md`]: 'Hello\n' },
    actor: 'alice',
  });
  const pull = await sim.control.openPullRequest({
    owner: 'acme',
    name,
    head: branch,
    title: `Change ${branchCount}`,
    body: 'My first campaign!',
    draft: options.draft ?? false,
    actor: 'alice',
  });
  // The push and opened webhooks are out before the test starts counting its own.
  await webhooks.deliverer.idle();
  return pull;
}

/** Waits until the state has computed mergeability (GitHub does it in the background). */
async function settledMergeable(pull: PullRequest): Promise<void> {
  const query = `query($id: ID!) { node(id: $id) { ... on PullRequest { mergeable } } }`;
  for (let i = 0; i < 50; i++) {
    const data = await alice<{ node: { mergeable: string } }>(query, { id: pull.node_id });
    if (data.node.mergeable !== 'UNKNOWN') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`mergeability of #${pull.number} was never computed`);
}

/** The webhook deliveries (received so far and after `since`) of one pull request. */
async function webhooksOf(number: number, since: number, count: number) {
  await webhooks.deliverer.idle();
  const deliveries = receiver.deliveries
    .slice(since)
    .filter((d) => (d.payload.pull_request as { number?: number } | undefined)?.number === number);
  expect(deliveries.length).toBeGreaterThanOrEqual(count);
  for (const delivery of deliveries) {
    expect(delivery.signatureValid).toBe(true);
    expect(
      webhookSchemaErrors(
        delivery.event,
        delivery.payload.action as string | undefined,
        delivery.payload,
      ),
    ).toEqual([]);
  }
  return deliveries;
}

const PULL_REQUEST_FIELDS = `
  id number title body state isDraft mergeable reviewDecision
  headRefName headRefOid baseRefName baseRefOid url createdAt updatedAt closedAt mergedAt merged
  author { login }
  labels(first: 10) { nodes { name color } }
  reviews(last: 10) { nodes { state author { login } submittedAt } }
  commits(last: 1) { nodes { commit { oid statusCheckRollup { state } } } }`;

describe('reading pull requests', () => {
  it('answers repository.pullRequest with every field the syncer reads', async () => {
    // Given an open pull request with a label, an approving review, a green status and a running check
    const pull = await openPullRequest();
    await sim.control.setLabels({
      owner: 'acme',
      name: 'widgets',
      number: pull.number,
      add: ['enhancement'],
      actor: 'alice',
    });
    await sim.control.submitReview({
      owner: 'acme',
      name: 'widgets',
      number: pull.number,
      event: 'APPROVE',
      actor: 'bob',
    });
    await sim.control.setStatus({
      owner: 'acme',
      name: 'widgets',
      sha: pull.head.sha,
      state: 'success',
      context: 'ci/build',
    });
    await sim.control.createCheckRun({
      owner: 'acme',
      name: 'widgets',
      headSha: pull.head.sha,
      checkName: 'test',
      status: 'in_progress',
    });
    await settledMergeable(pull);
    // When the syncer asks for it by owner, name and number
    const data = await alice<{ repository: { pullRequest: Record<string, unknown> } }>(
      `query($owner: String!, $name: String!, $number: Int!) {
        repository(owner: $owner, name: $name) { pullRequest(number: $number) { ${PULL_REQUEST_FIELDS} } }
      }`,
      { owner: 'acme', name: 'widgets', number: pull.number },
    );
    // Then it gets GitHub's answer
    expect(data.repository.pullRequest).toEqual({
      id: pull.node_id,
      number: pull.number,
      title: pull.title,
      body: 'My first campaign!',
      state: 'OPEN',
      isDraft: false,
      mergeable: 'MERGEABLE',
      reviewDecision: 'APPROVED',
      headRefName: pull.head.ref,
      headRefOid: pull.head.sha,
      baseRefName: 'main',
      baseRefOid: pull.base.sha,
      url: `${sim.url}/acme/widgets/pull/${pull.number}`,
      createdAt: pull.created_at,
      updatedAt: expect.any(String),
      closedAt: null,
      mergedAt: null,
      merged: false,
      author: { login: 'alice' },
      labels: { nodes: [{ name: 'enhancement', color: 'a2eeef' }] },
      reviews: {
        nodes: [{ state: 'APPROVED', author: { login: 'bob' }, submittedAt: expect.any(String) }],
      },
      commits: {
        nodes: [{ commit: { oid: pull.head.sha, statusCheckRollup: { state: 'PENDING' } } }],
      },
    });
  });

  it('answers UNKNOWN mergeability until it has been computed, as GitHub does after a change', async () => {
    const pull = await openPullRequest();
    await sim.control.pushCommit({
      owner: 'acme',
      name: 'widgets',
      branch: pull.head.ref,
      files: { 'more.md': 'More\n' },
      actor: 'alice',
    });
    const query = `query($id: ID!) { node(id: $id) { ... on PullRequest { mergeable headRefOid } } }`;

    const first = await alice<{ node: { mergeable: string } }>(query, { id: pull.node_id });
    await settledMergeable(pull);
    const later = await alice<{ node: { mergeable: string } }>(query, { id: pull.node_id });

    expect(first.node.mergeable).toBe('UNKNOWN');
    expect(later.node.mergeable).toBe('MERGEABLE');
  });

  it('loads a hundred pull requests in one query of aliased node() fields, at GitHub’s cost', async () => {
    // Given a few pull requests, asked for a hundred times over as the syncer batches them
    const pulls = await Promise.all([0, 1, 2, 3].map(() => openPullRequest()));
    const aliases = Array.from(
      { length: 100 },
      (_, i) =>
        `pr${i}: node(id: "${pulls[i % pulls.length]!.node_id}") { ... on PullRequest { ...pr } }`,
    );
    const query = `query { ${aliases.join('\n')}
      rateLimit { cost nodeCount limit remaining used resetAt } }
      fragment pr on PullRequest { ${PULL_REQUEST_FIELDS} }`;
    // When it is sent in one call
    const data = await alice<
      Record<string, { number: number; state: string }> & { rateLimit: Record<string, unknown> }
    >(query);
    // Then every alias resolves, and the call costs what GitHub's formula says
    for (let i = 0; i < 100; i++)
      expect(data[`pr${i}`]).toMatchObject({
        number: pulls[i % pulls.length]!.number,
        state: 'OPEN',
      });
    // 100 × (labels, reviews, commits) = 300 requests → 3 points; 100 × (10 + 10 + 1) nodes.
    expect(data.rateLimit).toMatchObject({ cost: 3, nodeCount: 2100, limit: 5000 });
  });

  it('answers nodes(ids:) in order, with null and a NOT_FOUND error for an id it cannot resolve', async () => {
    const pull = await openPullRequest();
    const missing = Buffer.from('011:PullRequest999999').toString('base64');

    const error = await graphqlErrors(
      alice(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on PullRequest { number } } }`, {
        ids: [pull.node_id, missing],
      }),
    );

    expect(error.data).toEqual({ nodes: [{ number: pull.number }, null] });
    expect(error.errors).toEqual([
      expect.objectContaining({
        type: 'NOT_FOUND',
        path: ['nodes', 1],
        message: `Could not resolve to a node with the global id of '${missing}'`,
      }),
    ]);
  });

  it('answers NOT_FOUND for a pull request number the repository does not have', async () => {
    const query = `query { repository(owner: "acme", name: "widgets") { pullRequest(number: 9999) { id } } }`;

    const error = await graphqlErrors(alice(query));

    expect(error.data).toEqual({ repository: { pullRequest: null } });
    expect(error.errors).toEqual([
      {
        type: 'NOT_FOUND',
        path: ['repository', 'pullRequest'],
        locations: [{ line: 1, column: query.indexOf('pullRequest') + 1 }],
        message: 'Could not resolve to a PullRequest with the number of 9999.',
      },
    ]);
  });

  it('hides a private repository from someone who may not read it', async () => {
    await openPullRequest({ repo: 'secrets' });

    const error = await graphqlErrors(
      bob(`query { repository(owner: "acme", name: "secrets") { id } }`),
    );

    expect(error.errors[0]).toMatchObject({
      type: 'NOT_FOUND',
      message: "Could not resolve to a Repository with the name 'acme/secrets'.",
    });
  });
});

describe('listing repositories', () => {
  const REPOSITORY_FIELDS = `id name nameWithOwner owner { login } url isArchived isFork isPrivate
    visibility pushedAt defaultBranchRef { name target { ... on Commit { oid } } }`;
  const LISTING = `query($login: String!, $first: Int!, $after: String, $orderBy: RepositoryOrder) {
    organization(login: $login) {
      repositories(first: $first, after: $after, orderBy: $orderBy) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { ${REPOSITORY_FIELDS} }
      }
    }
  }`;
  interface ListedRepository {
    id: string;
    name: string;
    pushedAt: string;
    defaultBranchRef: { name: string; target: { oid: string } } | null;
  }
  interface Listing {
    organization: {
      repositories: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: ListedRepository[];
      };
    };
  }
  const names = (listing: Listing) => listing.organization.repositories.nodes.map((n) => n.name);

  /** Every page of a listing, following endCursor. */
  async function listAll(
    call: GraphqlCall,
    variables: Record<string, unknown>,
    from: string | null = null,
  ): Promise<ListedRepository[]> {
    const all: ListedRepository[] = [];
    let after = from;
    for (;;) {
      const page: Listing = await call<Listing>(LISTING, { ...variables, after });
      all.push(...page.organization.repositories.nodes);
      if (!page.organization.repositories.pageInfo.hasNextPage) return all;
      after = page.organization.repositories.pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    // An organization of its own: alice is a member, bob is not.
    await sim.control.createOrg({ login: 'listing', members: ['alice'] });
    for (const name of ['delta', 'Alpha', 'charlie', 'bravo']) {
      await sim.control.createRepo({
        owner: 'listing',
        name,
        files: { 'README.md': `# ${name}\n` },
      });
    }
    await sim.control.createRepo({
      owner: 'listing',
      name: 'forked',
      fork: true,
      files: { a: 'a' },
    });
    await sim.control.createRepo({
      owner: 'listing',
      name: 'old',
      archived: true,
      files: { a: 'a' },
    });
    await sim.control.createRepo({
      owner: 'listing',
      name: 'hidden',
      visibility: 'private',
      files: { a: 'a' },
    });
    await sim.control.createRepo({ owner: 'listing', name: 'empty', files: {} });
  });

  it('pages through an organization in creation order with every field the repository index reads', async () => {
    const first = await alice<Listing>(LISTING, { login: 'listing', first: 3 });
    const rest = await alice<Listing>(LISTING, {
      login: 'listing',
      first: 100,
      after: first.organization.repositories.pageInfo.endCursor,
    });

    expect(names(first)).toEqual(['delta', 'Alpha', 'charlie']);
    expect(first.organization.repositories).toMatchObject({
      totalCount: 8,
      pageInfo: { hasNextPage: true },
    });
    expect(names(rest)).toEqual(['bravo', 'forked', 'old', 'hidden', 'empty']);
    expect(rest.organization.repositories.pageInfo.hasNextPage).toBe(false);
    const delta = sim.state.getRepository('listing', 'delta')!;
    expect(first.organization.repositories.nodes[0]).toEqual({
      id: delta.node_id,
      name: 'delta',
      nameWithOwner: 'listing/delta',
      owner: { login: 'listing' },
      url: `${sim.url}/listing/delta`,
      isArchived: false,
      isFork: false,
      isPrivate: false,
      visibility: 'PUBLIC',
      pushedAt: delta.pushed_at,
      defaultBranchRef: { name: 'main', target: { oid: delta.branches.main } },
    });
    expect(
      rest.organization.repositories.nodes.map((n) => n.defaultBranchRef?.name ?? null),
    ).toEqual(['main', 'main', 'main', 'main', null]);
    expect(rest.organization.repositories.nodes[3]).toMatchObject({
      isPrivate: true,
      visibility: 'PRIVATE',
    });
  });

  it('orders by NAME and filters forks, archived and private repositories as GitHub’s arguments say', async () => {
    const query = (args: string) =>
      alice<Listing>(`query { organization(login: "listing") { repositories(first: 100, ${args}) {
        totalCount pageInfo { hasNextPage endCursor } nodes { ${REPOSITORY_FIELDS} } } } }`);

    const byName = await query('orderBy: { field: NAME, direction: ASC }');
    const sources = await query('isFork: false, isArchived: false, privacy: PUBLIC');
    const forks = await query('isFork: true');
    const privateOnes = await query('visibility: PRIVATE');

    expect(names(byName)).toEqual([
      'Alpha',
      'bravo',
      'charlie',
      'delta',
      'empty',
      'forked',
      'hidden',
      'old',
    ]);
    expect(names(sources)).toEqual(['delta', 'Alpha', 'charlie', 'bravo', 'empty']);
    expect(sources.organization.repositories.totalCount).toBe(5);
    expect(names(forks)).toEqual(['forked']);
    expect(names(privateOnes)).toEqual(['hidden']);
  });

  it('orders by PUSHED_AT, and a repository pushed during a listing neither repeats nor hides another', async () => {
    // Given a push to charlie, which makes it the most recently pushed repository
    await sim.control.pushCommit({
      owner: 'listing',
      name: 'charlie',
      branch: 'main',
      files: { 'more.md': 'more\n' },
    });
    const newestFirst = { field: 'PUSHED_AT', direction: 'DESC' };
    const before = await listAll(alice, { login: 'listing', first: 100, orderBy: newestFirst });
    expect(before[0]!.name).toBe('charlie');
    const pushedAt = before.map((r) => r.pushedAt);
    expect(pushedAt).toEqual([...pushedAt].sort().reverse());

    // When a listing two at a time is half way and bravo, on a later page, is pushed to
    const first = await alice<Listing>(LISTING, {
      login: 'listing',
      first: 2,
      orderBy: newestFirst,
    });
    expect(names(first)).not.toContain('bravo');
    const pushed = await sim.control.pushCommit({
      owner: 'listing',
      name: 'bravo',
      branch: 'main',
      files: { 'again.md': 'again\n' },
    });
    const rest = await listAll(
      alice,
      { login: 'listing', first: 2, orderBy: newestFirst },
      first.organization.repositories.pageInfo.endCursor,
    );

    // Then every other repository is listed exactly once, and the pushed one has moved ahead
    const listed = [...names(first), ...rest.map((r) => r.name)];
    expect(listed).toHaveLength(new Set(listed).size);
    expect(new Set(listed)).toEqual(
      new Set(before.map((r) => r.name).filter((n) => n !== 'bravo')),
    );
    const again = await alice<Listing>(LISTING, {
      login: 'listing',
      first: 1,
      orderBy: newestFirst,
    });
    expect(again.organization.repositories.nodes[0]).toMatchObject({
      name: 'bravo',
      defaultBranchRef: { target: { oid: pushed.sha } },
    });
  });

  it('lists only what the viewer may read, and the same through user and repositoryOwner', async () => {
    await sim.control.createRepo({ owner: 'bob', name: 'dotfiles', files: { a: 'a' } });
    const owned = `repositories(first: 100, ownerAffiliations: [OWNER]) { totalCount nodes { name } }`;

    const asBob = await bob<Listing>(LISTING, { login: 'listing', first: 100 });
    const data = await alice<{
      user: { repositories: { nodes: { name: string }[] } };
      org: { login: string; repositories: { totalCount: number } };
      nobody: null;
    }>(`query {
      user(login: "bob") { ${owned} }
      org: repositoryOwner(login: "listing") { login ${owned} }
      nobody: repositoryOwner(login: "no-such-owner") { login }
    }`);

    expect(names(asBob)).not.toContain('hidden');
    expect(asBob.organization.repositories.totalCount).toBe(7);
    expect(data.user.repositories.nodes.map((n) => n.name)).toEqual(['dotfiles']);
    expect(data.org).toMatchObject({ login: 'listing', repositories: { totalCount: 8 } });
    expect(data.nobody).toBeNull();
  });

  it('answers NOT_FOUND for an organization nobody has, and refuses a cursor it did not issue', async () => {
    const missing = await graphqlErrors(
      alice(`query { organization(login: "no-such-org") { login } }`),
    );
    const badCursor = await graphqlErrors(
      alice(LISTING, { login: 'listing', first: 10, after: 'bm90LWEtY3Vyc29y' }),
    );

    expect(missing.errors).toEqual([
      expect.objectContaining({
        type: 'NOT_FOUND',
        path: ['organization'],
        message: "Could not resolve to an Organization with the login of 'no-such-org'.",
      }),
    ]);
    expect(badCursor.errors).toEqual([
      expect.objectContaining({
        type: 'INVALID_CURSOR_ARGUMENTS',
        path: ['organization', 'repositories'],
        message: '`after` does not appear to be a valid cursor.',
      }),
    ]);
  });

  it('costs one point per page of a hundred, as GitHub counts it', async () => {
    const data = await alice<{ rateLimit: { cost: number; nodeCount: number } }>(
      `query { organization(login: "listing") { repositories(first: 100) { nodes { name
        defaultBranchRef { target { oid } } } } } rateLimit { cost nodeCount } }`,
    );

    expect(data.rateLimit).toEqual({ cost: 1, nodeCount: 100 });
  });
});

describe('limits', () => {
  it('charges the cost of each call and reports it in rateLimit and the x-ratelimit headers', async () => {
    await sim.control.resetRateLimits({ token: ALICE });
    const query = `query { viewer { login } rateLimit { cost remaining used limit resetAt nodeCount } }`;
    expect(validate(query)).toEqual([]);

    const first = await rawGraphql(sim, ALICE, query);
    const second = await rawGraphql(sim, ALICE, query);

    expect((first.body.data as { rateLimit: unknown }).rateLimit).toMatchObject({
      cost: 1,
      used: 1,
      remaining: 4999,
      limit: 5000,
      nodeCount: 0,
    });
    expect((second.body.data as { rateLimit: unknown }).rateLimit).toMatchObject({
      used: 2,
      remaining: 4998,
    });
    expect(second.headers.get('x-ratelimit-resource')).toBe('graphql');
    expect(second.headers.get('x-ratelimit-remaining')).toBe('4998');
    expect(second.headers.get('x-ratelimit-used')).toBe('2');
  });

  it('measures a dry run without charging for it', async () => {
    await sim.control.resetRateLimits({ token: ALICE });

    const data = await alice<{ rateLimit: { cost: number; used: number } }>(
      `query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { labels(first: 100) { nodes { name } } } } rateLimit(dryRun: true) { cost used } }`,
    );

    expect(data).toEqual({ repository: null, rateLimit: { cost: 1, used: 0 } });
  });

  it('refuses a call over the node limit with MAX_NODE_LIMIT_EXCEEDED before running it', async () => {
    // 17 × 100 ids × (100 labels + 100 reviews + 100 commits) = 510,000 possible nodes
    const batches = Array.from(
      { length: 17 },
      (_, i) =>
        `b${i}: nodes(ids: $ids) { ... on PullRequest { labels(first: 100) { nodes { name } } reviews(first: 100) { nodes { state } } commits(first: 100) { nodes { commit { oid } } } } }`,
    );
    const ids = Array.from({ length: 100 }, (_, i) =>
      Buffer.from(`011:PullRequest${i + 1}`).toString('base64'),
    );

    const error = await graphqlErrors(
      alice(`query($ids: [ID!]!) { ${batches.join('\n')} }`, { ids }),
    );

    expect(error.errors).toEqual([
      {
        type: 'MAX_NODE_LIMIT_EXCEEDED',
        message:
          'This query requests up to 510,000 possible nodes which exceeds the maximum limit of 500,000.',
      },
    ]);
    expect(error.data).toBeUndefined();
  });

  it('requires first or last on every connection', async () => {
    const query = `query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { labels { nodes { name } } } } }`;

    const error = await graphqlErrors(alice(query));

    expect(error.errors).toEqual([
      {
        type: 'MISSING_PAGINATION_BOUNDARIES',
        path: ['query', 'repository', 'pullRequest', 'labels'],
        locations: [{ line: 1, column: query.indexOf('labels') + 1 }],
        message:
          'You must provide a `first` or `last` value to properly paginate the `labels` connection.',
      },
    ]);
  });

  it('refuses pages over 100 records and more than 100 node ids', async () => {
    const ids = Array.from({ length: 101 }, (_, i) =>
      Buffer.from(`011:PullRequest${i + 1}`).toString('base64'),
    );

    const error = await graphqlErrors(
      alice(
        `query($ids: [ID!]!) { nodes(ids: $ids) { ... on PullRequest { labels(first: 101) { nodes { name } } } } }`,
        { ids },
      ),
    );

    expect(error.errors.map((e) => [e.type, e.message])).toEqual([
      ['ARGUMENT_LIMIT', 'You may not provide more than 100 node ids; you provided 101.'],
      [
        'EXCESSIVE_PAGINATION',
        'Requesting 101 records on the `labels` connection exceeds the `first` limit of 100 records.',
      ],
    ]);
  });

  it('answers RATE_LIMITED (status 200, remaining 0) once a token’s points are used up', async () => {
    await sim.control.createToken({ login: 'alice', token: 'alice-small', limits: { graphql: 2 } });
    const query = `query { viewer { login } }`;
    expect(validate(query)).toEqual([]);

    await rawGraphql(sim, 'alice-small', query);
    await rawGraphql(sim, 'alice-small', query);
    const refused = await rawGraphql(sim, 'alice-small', query);

    expect(refused.status).toBe(200);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.body).toEqual({
      errors: [
        {
          type: 'RATE_LIMITED',
          message: expect.stringMatching(/^API rate limit exceeded for user ID \d+\.$/),
        },
      ],
    });
  });
});

describe('documents GitHub would refuse, or the sim does not serve', () => {
  it('refuses a field GitHub’s schema does not have, in GitHub’s words', async () => {
    const query = `query { repository(owner: "acme", name: "widgets") { pullRequest(number: 1) { colour } } }`;
    expect(validate(query)).not.toEqual([]);

    const { status, body } = await rawGraphql(sim, ALICE, query);

    expect(status).toBe(200);
    expect(body).toEqual({
      errors: [
        {
          locations: [{ line: 1, column: 79 }],
          message: "Field 'colour' doesn't exist on type 'PullRequest'",
          extensions: { code: 'undefinedField', typeName: 'PullRequest', fieldName: 'colour' },
        },
      ],
    });
  });

  it('says so when a query valid on GitHub asks for a field the sim does not implement', async () => {
    const query = `query { repository(owner: "acme", name: "widgets") { stargazerCount } }`;
    expect(validate(query)).toEqual([]);

    const { body } = await rawGraphql(sim, ALICE, query);

    expect(body.errors).toEqual([
      expect.objectContaining({
        type: 'NOT_IMPLEMENTED',
        message: expect.stringContaining('stargazerCount'),
      }),
    ]);
  });

  it('requires authentication, and refuses a token it does not know', async () => {
    const query = `query { viewer { login } }`;

    const anonymous = await rawGraphql(sim, null, query);
    const unknown = await rawGraphql(sim, 'ghp_unknown', query);

    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({
      message: 'This endpoint requires you to be authenticated.',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ message: 'Bad credentials' });
  });
});

describe('mutations', () => {
  it('marks a draft ready for review, and the state sends the ready_for_review webhook', async () => {
    const pull = await openPullRequest({ draft: true });
    const since = receiver.deliveries.length;

    const data = await alice<{
      markPullRequestReadyForReview: { pullRequest: { isDraft: boolean } };
    }>(
      `mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft } } }`,
      { id: pull.node_id },
    );

    expect(data.markPullRequestReadyForReview.pullRequest.isDraft).toBe(false);
    const deliveries = await webhooksOf(pull.number, since, 1);
    expect(deliveries.map((d) => d.payload.action)).toEqual(['ready_for_review']);
    expect(deliveries[0]!.payload).toMatchObject({
      pull_request: { draft: false },
      sender: { login: 'alice' },
    });
  });

  it('converts a pull request to a draft, with the converted_to_draft webhook', async () => {
    const pull = await openPullRequest();
    const since = receiver.deliveries.length;

    const data = await alice<{ convertPullRequestToDraft: { pullRequest: { isDraft: boolean } } }>(
      `mutation($id: ID!) { convertPullRequestToDraft(input: { pullRequestId: $id, clientMutationId: "c1" }) { clientMutationId pullRequest { isDraft } } }`,
      { id: pull.node_id },
    );

    expect(data).toEqual({
      convertPullRequestToDraft: { clientMutationId: 'c1', pullRequest: { isDraft: true } },
    });
    expect((await webhooksOf(pull.number, since, 1)).map((d) => d.payload.action)).toEqual([
      'converted_to_draft',
    ]);
  });

  it('merges a pull request, with the closed webhook of a merged pull request', async () => {
    const pull = await openPullRequest();
    await settledMergeable(pull);
    const since = receiver.deliveries.length;

    const data = await alice<{
      mergePullRequest: { actor: { login: string }; pullRequest: Record<string, unknown> };
    }>(
      `mutation($id: ID!, $oid: GitObjectID!) {
        mergePullRequest(input: { pullRequestId: $id, mergeMethod: SQUASH, expectedHeadOid: $oid }) {
          actor { login } pullRequest { state merged mergedAt closedAt }
        }
      }`,
      { id: pull.node_id, oid: pull.head.sha },
    );

    expect(data.mergePullRequest).toEqual({
      actor: { login: 'alice' },
      pullRequest: {
        state: 'MERGED',
        merged: true,
        mergedAt: expect.any(String),
        closedAt: expect.any(String),
      },
    });
    const closed = (await webhooksOf(pull.number, since, 1)).filter(
      (d) => d.payload.action === 'closed',
    );
    expect(closed).toHaveLength(1);
    expect(closed[0]!.payload).toMatchObject({
      pull_request: { merged: true, merged_by: { login: 'alice' } },
    });
  });

  it('enables auto-merge while a check is pending, and merges when the check passes', async () => {
    const pull = await openPullRequest();
    const run = await sim.control.createCheckRun({
      owner: 'acme',
      name: 'widgets',
      headSha: pull.head.sha,
      checkName: 'build',
      status: 'in_progress',
    });
    await settledMergeable(pull);
    const since = receiver.deliveries.length;

    const data = await alice<{
      enablePullRequestAutoMerge: { pullRequest: { autoMergeRequest: Record<string, unknown> } };
    }>(
      `mutation($id: ID!) {
        enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: SQUASH }) {
          pullRequest { autoMergeRequest { mergeMethod enabledBy { login } } }
        }
      }`,
      { id: pull.node_id },
    );
    await sim.control.updateCheckRun({
      owner: 'acme',
      name: 'widgets',
      id: run.id,
      status: 'completed',
      conclusion: 'success',
    });

    expect(data.enablePullRequestAutoMerge.pullRequest.autoMergeRequest).toEqual({
      mergeMethod: 'SQUASH',
      enabledBy: { login: 'alice' },
    });
    const actions = (await webhooksOf(pull.number, since, 2))
      .filter((d) => d.event === 'pull_request')
      .map((d) => d.payload.action);
    expect(actions).toEqual(['auto_merge_enabled', 'closed']);
  });

  it('refuses auto-merge on a pull request that could be merged right now, as GitHub does', async () => {
    const pull = await openPullRequest();
    await sim.control.setStatus({
      owner: 'acme',
      name: 'widgets',
      sha: pull.head.sha,
      state: 'success',
    });
    await settledMergeable(pull);

    const error = await graphqlErrors(
      alice(
        `mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id }) { clientMutationId } }`,
        { id: pull.node_id },
      ),
    );

    expect(error.errors[0]).toMatchObject({
      type: 'UNPROCESSABLE',
      path: ['enablePullRequestAutoMerge'],
      message: 'Pull request Pull request is in clean status',
    });
  });

  it('refuses to merge a draft', async () => {
    const pull = await openPullRequest({ draft: true });

    const error = await graphqlErrors(
      alice(
        `mutation($id: ID!) { mergePullRequest(input: { pullRequestId: $id }) { pullRequest { merged } } }`,
        { id: pull.node_id },
      ),
    );

    expect(error.data).toEqual({ mergePullRequest: null });
    expect(error.errors[0]).toMatchObject({
      type: 'UNPROCESSABLE',
      message: 'Pull Request is still a draft',
    });
  });

  it('refuses a mutation by someone who may not write to the repository', async () => {
    const pull = await openPullRequest({ draft: true });

    const error = await graphqlErrors(
      bob(
        `mutation($id: ID!) { markPullRequestReadyForReview(input: { pullRequestId: $id }) { clientMutationId } }`,
        { id: pull.node_id },
      ),
    );

    expect(error.errors[0]).toMatchObject({
      type: 'FORBIDDEN',
      message:
        'bob does not have the correct permissions to execute `MarkPullRequestReadyForReview`',
    });
  });
});
