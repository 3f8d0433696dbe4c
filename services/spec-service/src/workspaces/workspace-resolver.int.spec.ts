import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignSpecSchema,
  type CampaignSpec,
  type CampaignSpecInput,
} from '@campaigns/campaign-spec';
import { GithubCodeHost, Secret, type CodeHostConfig } from '@campaigns/codehost';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { openSpecServiceDatabase } from '../test-support/spec-service-database.js';
import { createWorkspaceResolver, RepositoryIndex, type WorkspaceResolver } from './index.js';

function spec(
  on: CampaignSpecInput['on'],
  workspaces: CampaignSpecInput['workspaces'] = [],
): CampaignSpec {
  return campaignSpecSchema.parse({ name: 'test', on, workspaces });
}

async function treeRequests(t: SimCodeHost, since: number): Promise<string[]> {
  const requests = await t.sim.control.call('requests', { since, kind: 'rest' });
  return requests.filter((r) => r.path.includes('/git/trees/')).map((r) => r.path);
}

/** `HOST/widgets/NAME`: the tests' repositories live in their own organization. */
function repo(t: SimCodeHost, name: string): string {
  return `${t.config.host}/widgets/${name}`;
}

async function lastSeq(t: SimCodeHost): Promise<number> {
  const requests = await t.sim.control.call('requests', {});
  return requests.at(-1)?.seq ?? 0;
}

describe('workspace resolution against the repository index', () => {
  let t: SimCodeHost;
  let db: TestDatabase;
  let database: DataSource;
  let config: CodeHostConfig;
  let index: RepositoryIndex;
  let resolver: WorkspaceResolver;
  const heads = new Map<string, string>();

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 1 });
    await t.sim.control.call('createOrg', { login: 'widgets', members: ['campaigns-bot'] });
    db = await createTestDatabase('spec_ws');
    database = await openSpecServiceDatabase(db.url);
    config = { ...t.config, organizations: ['widgets'] };
    const seed: [string, Record<string, string>, { archived?: boolean; fork?: boolean }?][] = [
      [
        'api',
        {
          'README.md': '# api\n',
          'package.json': '{}\n',
          'src/index.ts': 'export {};\n',
          'src/util.ts': 'export {};\n',
        },
      ],
      [
        'web',
        {
          'README.md': '# web\n',
          'package.json': '{}\n',
          'packages/a/package.json': '{}\n',
          'packages/a/README.md': '# a\n',
          'packages/b/package.json': '{}\n',
          'packages/b/src/x.ts': 'export {};\n',
          'docs/README.md': '# docs\n',
        },
      ],
      [
        'go-svc',
        {
          'go.mod': 'module x\n',
          'main.go': 'package main\n',
          'cmd/tool/main.go': 'package main\n',
        },
      ],
      ['old', { 'README.md': '# old\n' }, { archived: true }],
      ['forked', { 'README.md': '# forked\n' }, { fork: true }],
    ];
    for (const [name, files, flags] of seed) {
      await t.sim.control.call('createRepo', { owner: 'widgets', name, files, ...flags });
    }
    await t.sim.control.call('createRepo', { owner: 'widgets', name: 'empty', files: {} });
    for (const name of ['api', 'web', 'go-svc', 'old', 'forked']) {
      const info = await t.host.getRepository(repo(t, name));
      heads.set(name, info.headCommit!);
    }
    index = new RepositoryIndex({ database, codeHosts: [{ config, codeHost: t.host }] });
    resolver = createWorkspaceResolver({ index });
  });

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
    await t?.sim.stop();
  });

  it('indexes every repository of the organizations with its files at the head commit', async () => {
    const reports = await index.refresh();
    expect(reports).toEqual([
      {
        codeHostId: 'sim',
        listing: 'full',
        listed: 6,
        repositories: 6,
        filesListed: 5,
        removed: 0,
      },
    ]);
    const repos = await index.list();
    expect(repos.map((r) => r.name)).toEqual(
      ['api', 'empty', 'forked', 'go-svc', 'old', 'web'].map((n) => repo(t, n)),
    );
    const api = repos.find((r) => r.name === repo(t, 'api'))!;
    expect(api).toMatchObject({
      owner: 'widgets',
      defaultBranch: 'main',
      headCommit: heads.get('api'),
      archived: false,
      fork: false,
      visibility: 'public',
      listed: true,
      files: ['README.md', 'package.json', 'src/index.ts', 'src/util.ts'],
    });
    expect(repos.find((r) => r.name === repo(t, 'old'))).toMatchObject({ archived: true });
    expect(repos.find((r) => r.name === repo(t, 'empty'))).toMatchObject({
      headCommit: null,
      files: [],
    });
  });

  it('matches file: filters, keeps the matched paths, and leaves out archived repositories and forks by default', async () => {
    const result = await resolver.resolve(spec([{ repositoriesMatchingQuery: 'file:README.md' }]));
    expect(result.problems).toEqual([]);
    expect(result.workspaces).toEqual([
      {
        repository: repo(t, 'api'),
        branch: 'main',
        baseRevision: heads.get('api'),
        path: '',
        searchResultPaths: ['README.md'],
      },
      {
        repository: repo(t, 'web'),
        branch: 'main',
        baseRevision: heads.get('web'),
        path: '',
        searchResultPaths: ['README.md', 'docs/README.md', 'packages/a/README.md'],
      },
    ]);
  });

  it('includes archived repositories and forks when asked, or only them', async () => {
    const names = async (query: string) =>
      (await resolver.resolve(spec([{ repositoriesMatchingQuery: query }]))).workspaces.map(
        (w) => w.repository,
      );
    expect(await names('file:README archived:yes')).toEqual(
      ['api', 'old', 'web'].map((n) => repo(t, n)),
    );
    expect(await names('file:README archived:only')).toEqual([repo(t, 'old')]);
    expect(await names('file:README fork:only')).toEqual([repo(t, 'forked')]);
    expect(await names('file:README fork:yes archived:yes')).toEqual(
      ['api', 'forked', 'old', 'web'].map((n) => repo(t, n)),
    );
  });

  it('evaluates repo: and -repo: as regular expressions on HOST/OWNER/NAME, and OR', async () => {
    const names = async (query: string) =>
      (await resolver.resolve(spec([{ repositoriesMatchingQuery: query }]))).workspaces.map(
        (w) => w.repository,
      );
    const host = t.config.host.replace(/[.:]/g, '\\$&');
    expect(await names(`repo:^${host}/widgets/ -repo:web$`)).toEqual(
      ['api', 'go-svc'].map((n) => repo(t, n)),
    );
    expect(await names('repo:widgets/(api|web)$')).toEqual(['api', 'web'].map((n) => repo(t, n)));
    expect(await names('repo:api$ or repo:go-')).toEqual(['api', 'go-svc'].map((n) => repo(t, n)));
    expect(await names('repo:WIDGETS/API$')).toEqual([repo(t, 'api')]);
    expect(await names('repo:WIDGETS/API$ case:yes')).toEqual([]);
  });

  it('narrows files with -file: and lang:', async () => {
    const result = await resolver.resolve(
      spec([{ repositoriesMatchingQuery: 'lang:go -file:^cmd/' }]),
    );
    expect(result.workspaces).toEqual([
      expect.objectContaining({ repository: repo(t, 'go-svc'), searchResultPaths: ['main.go'] }),
    ]);
    const ts = await resolver.resolve(spec([{ repositoriesMatchingQuery: 'file:\\.ts$' }]));
    expect(ts.workspaces.map((w) => [w.repository, w.searchResultPaths])).toEqual([
      [repo(t, 'api'), ['src/index.ts', 'src/util.ts']],
      [repo(t, 'web'), ['packages/b/src/x.ts']],
    ]);
  });

  it('searches file contents exactly, reading each candidate repository once with git', async () => {
    const select = async (query: string) => {
      const result = await resolver.resolve(spec([{ repositoriesMatchingQuery: query }]));
      return [
        result.workspaces.map((w) => [w.repository, w.searchResultPaths]),
        result.problems.map((p) => p.message),
      ];
    };
    expect(await select('package main')).toEqual([
      [[repo(t, 'go-svc'), ['cmd/tool/main.go', 'main.go']]],
      [],
    ]);
    expect(await select('export {} -file:util')).toEqual([
      [
        [repo(t, 'api'), ['src/index.ts']],
        [repo(t, 'web'), ['packages/b/src/x.ts']],
      ],
      [],
    ]);
    expect(await select('repo:has.content(# docs)')).toEqual([[[repo(t, 'web'), []]], []]);
    expect(await select('file:has.content(^module x$)')).toEqual([
      [[repo(t, 'go-svc'), ['go.mod']]],
      [],
    ]);
    expect(await select('repo:go-svc$ fmt.Println')).toEqual([[], ['matched no repository']]);
  });

  it('reports an entry matching nothing, an invalid query and an empty repository as problems', async () => {
    const result = await resolver.resolve(
      spec([
        { repositoriesMatchingQuery: 'file:nothing-like-this' },
        { repositoriesMatchingQuery: 'repo:(' },
        { repositoriesMatchingQuery: 'repo:empty$' },
      ]),
    );
    expect(result.workspaces).toEqual([]);
    expect(result.problems).toEqual([
      {
        entry: 'repositoriesMatchingQuery: file:nothing-like-this',
        message: 'matched no repository',
      },
      {
        entry: 'repositoriesMatchingQuery: repo:(',
        message: expect.stringContaining('invalid query'),
      },
      {
        entry: 'repositoriesMatchingQuery: repo:empty$',
        message: expect.stringContaining(`repository ${repo(t, 'empty')} is empty`),
      },
    ]);
  });

  it('resolves explicit repositories and branches; unknown ones are problems; duplicates collapse', async () => {
    const feature = await t.sim.control.call('pushCommit', {
      owner: 'widgets',
      name: 'go-svc',
      branch: 'feature',
      files: { 'feature.txt': 'x\n' },
    });
    const result = await resolver.resolve(
      spec([
        { repository: repo(t, 'api') },
        { repositoriesMatchingQuery: 'repo:api$' },
        { repository: repo(t, 'go-svc'), branches: ['main', 'feature', 'nope'] },
        { repository: repo(t, 'missing') },
        { repository: 'gitlab.example.com/widgets/x' },
      ]),
    );
    expect(result.workspaces).toEqual([
      {
        repository: repo(t, 'api'),
        branch: 'main',
        baseRevision: heads.get('api'),
        path: '',
        searchResultPaths: [],
      },
      {
        repository: repo(t, 'go-svc'),
        branch: 'feature',
        baseRevision: feature.sha,
        path: '',
        searchResultPaths: [],
      },
      {
        repository: repo(t, 'go-svc'),
        branch: 'main',
        baseRevision: heads.get('go-svc'),
        path: '',
        searchResultPaths: [],
      },
    ]);
    expect(result.problems).toEqual([
      {
        entry: `repository: ${repo(t, 'go-svc')}`,
        message: `branch nope not found in ${repo(t, 'go-svc')}`,
      },
      {
        entry: `repository: ${repo(t, 'missing')}`,
        message: `repository ${repo(t, 'missing')} not found on ${t.config.host}`,
      },
      {
        entry: 'repository: gitlab.example.com/widgets/x',
        message: expect.stringContaining(
          'no code host is configured for gitlab.example.com/widgets/x',
        ),
      },
    ]);
  });

  it('importChangesets: pull requests of repositories the host has, each once, named as the host spells them; a missing repository, an unconfigured host or an ID that is no number is a problem', async () => {
    const result = await resolver.resolve(
      campaignSpecSchema.parse({
        name: 'test',
        importChangesets: [
          { repository: repo(t, 'API'), externalIDs: [12, '3', '#12'] },
          { repository: repo(t, 'missing'), externalIDs: [1] },
          { repository: 'gitlab.example.com/widgets/x', externalIDs: [1] },
          { repository: repo(t, 'web'), externalIDs: ['abc', 0, 5] },
        ],
      }),
    );
    expect(result.workspaces).toEqual([]);
    expect(result.imports).toEqual([
      { repository: repo(t, 'api'), number: 3 },
      { repository: repo(t, 'api'), number: 12 },
      { repository: repo(t, 'web'), number: 5 },
    ]);
    expect(result.problems).toEqual([
      {
        entry: `importChangesets: ${repo(t, 'missing')}`,
        message: `repository ${repo(t, 'missing')} not found on ${t.config.host}; its changesets are not imported`,
      },
      {
        entry: 'importChangesets: gitlab.example.com/widgets/x',
        message: expect.stringContaining(
          'no code host is configured for gitlab.example.com/widgets/x',
        ),
      },
      {
        entry: `importChangesets: ${repo(t, 'web')}`,
        message: 'external ID "abc" is not a pull request number; it is not imported',
      },
      {
        entry: `importChangesets: ${repo(t, 'web')}`,
        message: 'external ID 0 is not a pull request number; it is not imported',
      },
    ]);
  });

  it('splits a non-default branch by the files at its own head', async () => {
    const pushed = await t.sim.control.call('pushCommit', {
      owner: 'widgets',
      name: 'go-svc',
      branch: 'feature',
      files: { 'tools/package.json': '{}\n' },
    });
    const result = await resolver.resolve(
      spec(
        [{ repository: repo(t, 'go-svc'), branch: 'feature' }],
        [{ rootAtLocationOf: 'package.json', in: '*/go-svc' }],
      ),
    );
    expect(result.problems).toEqual([]);
    expect(result.workspaces).toEqual([
      {
        repository: repo(t, 'go-svc'),
        branch: 'feature',
        baseRevision: pushed.sha,
        path: 'tools',
        searchResultPaths: [],
      },
    ]);
  });

  it('keeps repositories indexed on demand outside the organizations out of queries', async () => {
    const outside = t.repo('repo-00001');
    const ensured = await index.ensure(`${t.config.host}/ACME/REPO-00001`);
    expect(ensured).toMatchObject({ name: outside, listed: false, owner: 'acme' });
    await index.refresh();
    expect((await index.list()).map((r) => r.name)).not.toContain(outside);
    expect((await index.list({ includeUnlisted: true })).map((r) => r.name)).toContain(outside);
    const result = await resolver.resolve(
      spec([{ repositoriesMatchingQuery: 'repo:repo-00001' }, { repository: outside }]),
    );
    expect(result.workspaces.map((w) => w.repository)).toEqual([outside]);
    expect(result.problems).toEqual([
      { entry: 'repositoriesMatchingQuery: repo:repo-00001', message: 'matched no repository' },
    ]);
  });

  it('lets a repository entry with a branch override the default branch a query selected', async () => {
    const result = await resolver.resolve(
      spec([
        { repositoriesMatchingQuery: 'file:go.mod' },
        { repository: repo(t, 'go-svc'), branch: 'feature' },
      ]),
    );
    expect(result.workspaces.map((w) => [w.repository, w.branch])).toEqual([
      [repo(t, 'go-svc'), 'feature'],
    ]);
  });

  it('splits repositories into one workspace per rootAtLocationOf directory', async () => {
    const result = await resolver.resolve(
      spec(
        [{ repositoriesMatchingQuery: 'file:README.md' }, { repository: repo(t, 'go-svc') }],
        [
          { rootAtLocationOf: 'package.json', in: '*/widgets/web' },
          { rootAtLocationOf: 'package.json', in: '*/widgets/go-*' },
        ],
      ),
    );
    expect(result.workspaces.map((w) => [w.repository, w.path, w.searchResultPaths])).toEqual([
      [repo(t, 'api'), '', ['README.md']],
      [repo(t, 'web'), '', ['README.md', 'docs/README.md', 'packages/a/README.md']],
      [repo(t, 'web'), 'packages/a', ['packages/a/README.md']],
      [repo(t, 'web'), 'packages/b', []],
    ]);
    expect(result.problems).toEqual([
      {
        entry: 'workspaces: rootAtLocationOf package.json in */widgets/go-*',
        message: `${repo(t, 'go-svc')} has no package.json; it gets no workspace`,
      },
    ]);
  });

  it('refreshes incrementally: unchanged repositories cost no listFiles, a push re-lists only its repository', async () => {
    await resolver.resolve(spec([{ repositoriesMatchingQuery: 'file:README.md' }]));
    let since = await lastSeq(t);
    const again = await resolver.resolve(spec([{ repositoriesMatchingQuery: 'file:README.md' }]));
    expect(await treeRequests(t, since)).toEqual([]);
    expect(again.workspaces).toHaveLength(2);

    const pushed = await t.sim.control.call('pushCommit', {
      owner: 'widgets',
      name: 'api',
      branch: 'main',
      files: { 'docs/README.md': '# more\n' },
    });
    since = await lastSeq(t);
    const after = await resolver.resolve(spec([{ repositoriesMatchingQuery: 'file:README.md' }]));
    const trees = await treeRequests(t, since);
    expect(trees).toHaveLength(1);
    expect(trees[0]).toContain('/repos/widgets/api/git/trees/');
    expect(after.workspaces[0]).toEqual({
      repository: repo(t, 'api'),
      branch: 'main',
      baseRevision: pushed.sha,
      path: '',
      searchResultPaths: ['README.md', 'docs/README.md'],
    });
  });

  it('skips a refresh done less than maxAgeMs ago', async () => {
    const cached = createWorkspaceResolver({ index, maxAgeMs: 60_000 });
    await index.refresh();
    const since = await lastSeq(t);
    const result = await cached.resolve(spec([{ repositoriesMatchingQuery: 'file:go.mod' }]));
    expect(result.workspaces.map((w) => w.repository)).toEqual([repo(t, 'go-svc')]);
    const requests = await t.sim.control.call('requests', { since, kind: 'rest' });
    expect(requests).toEqual([]);
  });

  it('lets instances that resolve at once share one refresh', async () => {
    await t.sim.control.call('pushCommit', {
      owner: 'widgets',
      name: 'web',
      branch: 'main',
      files: { 'CHANGELOG.md': '# changes\n' },
    });
    // The last refresh is an hour old; three instances (each its own index) resolve at once.
    await db.pool.query(
      "UPDATE spec_service.repository_index_refreshes SET refreshed_at = now() - interval '1 hour'",
    );
    const instances = [1, 2, 3].map(() =>
      createWorkspaceResolver({
        index: new RepositoryIndex({ database, codeHosts: [{ config, codeHost: t.host }] }),
        maxAgeMs: 60_000,
      }),
    );
    const since = await lastSeq(t);
    const results = await Promise.all(
      instances.map((r) => r.resolve(spec([{ repositoriesMatchingQuery: 'file:CHANGELOG' }]))),
    );
    for (const result of results) {
      expect(result.workspaces.map((w) => w.repository)).toEqual([repo(t, 'web')]);
    }
    // One incremental refresh: the organization's few repositories fit one page newest pushed
    // first (which makes listing them newest updated first needless), and one tree.
    const listings = await t.sim.control.call('requests', { since, kind: 'graphql' });
    expect(listings).toHaveLength(1);
    expect(await treeRequests(t, since)).toHaveLength(1);
  });

  it('indexes an explicit repository on demand with one GraphQL request', async () => {
    const since = await lastSeq(t);
    expect(await index.ensure(repo(t, 'api'))).toMatchObject({ name: repo(t, 'api') });
    const requests = await t.sim.control.call('requests', { since });
    expect(requests.filter((r) => r.kind !== 'control').map((r) => r.kind)).toEqual(['graphql']);
  });

  it('throws when a code host fails during the refresh', async () => {
    const broken = new RepositoryIndex({
      database,
      codeHosts: [
        {
          config: { ...config, organizations: ['no-such-org'] },
          codeHost: t.host,
        },
      ],
    });
    await expect(
      createWorkspaceResolver({ index: broken }).resolve(
        spec([{ repositoriesMatchingQuery: 'file:README.md' }]),
      ),
    ).rejects.toThrow(/cannot resolve workspaces: .*code host "sim".*no-such-org/);
  });

  it('keeps at most 100 search result paths per workspace, sorted', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [
        `notes/${String(149 - i).padStart(3, '0')}.md`,
        'x\n',
      ]),
    );
    await t.sim.control.call('createRepo', { owner: 'widgets', name: 'many', files });
    const result = await resolver.resolve(
      spec([{ repositoriesMatchingQuery: 'file:^notes/' }, { repository: repo(t, 'many') }]),
    );
    expect(result.workspaces).toHaveLength(1);
    const paths = result.workspaces[0]!.searchResultPaths;
    expect(paths).toHaveLength(100);
    expect(paths[0]).toBe('notes/000.md');
    expect(paths[99]).toBe('notes/099.md');
  });
});

describe('repositories that disappear from the code host', () => {
  let t: SimCodeHost;
  let db: TestDatabase;
  let database: DataSource;

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 1 });
    await t.sim.control.call('createOrg', { login: 'widgets', members: ['campaigns-bot'] });
    db = await createTestDatabase('spec_ws');
    database = await openSpecServiceDatabase(db.url);
  });

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
    await t?.sim.stop();
  });

  it('are removed from the index by the next complete listing', async () => {
    // The simulator cannot delete a repository; one that turns private vanishes just the same
    // for a token outside the organization.
    await t.sim.control.call('createUser', { login: 'outsider' });
    const token = `ghp_outsider_${crypto.randomUUID().replace(/-/g, '')}`;
    await t.sim.control.call('createToken', { login: 'outsider', token });
    const config: CodeHostConfig = {
      ...t.config,
      token: new Secret(token),
      organizations: ['widgets'],
    };
    const host = new GithubCodeHost(config, { retries: 2, retryBaseMs: 20 });
    for (const name of ['stays', 'goes']) {
      await t.sim.control.call('createRepo', { owner: 'widgets', name, files: { 'a.txt': 'a\n' } });
    }
    const index = new RepositoryIndex({ database, codeHosts: [{ config, codeHost: host }] });
    const resolver = createWorkspaceResolver({ index });
    const query = spec([{ repositoriesMatchingQuery: 'file:a.txt' }]);
    expect((await resolver.resolve(query)).workspaces.map((w) => w.repository)).toEqual([
      repo(t, 'goes'),
      repo(t, 'stays'),
    ]);

    const response = await fetch(`${t.sim.apiUrl}/repos/widgets/goes`, {
      method: 'PATCH',
      headers: { authorization: `token ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'private' }),
    });
    expect(response.status).toBe(200);

    // An incremental listing cannot see what it is no longer shown (the trade-off of not listing
    // everything every time); a complete one removes it.
    expect((await index.refresh())[0]).toMatchObject({ listing: 'incremental', removed: 0 });
    expect((await index.list()).map((r) => r.name)).toContain(repo(t, 'goes'));
    expect((await index.refresh({ full: true }))[0]).toMatchObject({
      listing: 'full',
      removed: 1,
    });
    expect((await resolver.resolve(query)).workspaces.map((w) => w.repository)).toEqual([
      repo(t, 'stays'),
    ]);
    expect((await index.list({ includeUnlisted: true })).map((r) => r.name)).toEqual([
      repo(t, 'stays'),
    ]);
    const gone = await resolver.resolve(spec([{ repository: repo(t, 'goes') }]));
    expect(gone.problems).toEqual([
      {
        entry: `repository: ${repo(t, 'goes')}`,
        message: `repository ${repo(t, 'goes')} not found on ${t.config.host}`,
      },
    ]);
  });
});

describe('what a refresh costs', () => {
  let t: SimCodeHost;
  let db: TestDatabase;
  let database: DataSource;
  let config: CodeHostConfig;
  let index: RepositoryIndex;
  /** Statements that write to the index table, counted on the way to PostgreSQL. */
  let indexWrites = 0;

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 250 });
    db = await createTestDatabase('spec_ws');
    database = await openSpecServiceDatabase(db.url);
    config = { ...t.config, organizations: ['acme'] };
    database.subscribers.push({
      beforeQuery: ({ query }) => {
        if (/INSERT INTO spec_service\.indexed_repositories/.test(query)) indexWrites++;
      },
    });
    // No margin: the repositories were all pushed to moments before the first listing.
    index = new RepositoryIndex({
      database,
      codeHosts: [{ config, codeHost: t.host }],
      listingMarginMs: 0,
    });
  });

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
    await t?.sim.stop();
  });

  async function requestsSince(since: number): Promise<string[]> {
    const requests = await t.sim.control.call('requests', { since });
    return requests
      .filter((r) => r.kind !== 'control')
      .map((r) => (r.kind === 'rest' ? r.path.replace(/\/git\/trees\/.*/, '/git/trees') : r.kind));
  }

  it('indexes an organization with one GraphQL request per 100 repositories and one tree each, one write per page', async () => {
    const since = await lastSeq(t);
    const [report] = await index.refresh();

    expect(report).toMatchObject({ listing: 'full', listed: 250, filesListed: 250 });
    const requests = await requestsSince(since);
    expect(requests.filter((r) => r === 'graphql')).toHaveLength(3);
    expect(requests.filter((r) => r.endsWith('/git/trees'))).toHaveLength(250);
    expect(requests).toHaveLength(253);
    expect(indexWrites).toBe(3);
  });

  it('refreshes the unchanged organization with two GraphQL requests and nothing else', async () => {
    const since = await lastSeq(t);
    indexWrites = 0;

    const [report] = await index.refresh();

    expect(report).toMatchObject({ listing: 'incremental', filesListed: 0, repositories: 250 });
    expect(await requestsSince(since)).toEqual(['graphql', 'graphql']);
  });

  it('sees pushes, archives and new repositories incrementally, listing only their files', async () => {
    const pushed = await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'repo-00007',
      branch: 'main',
      files: { 'NEW.md': 'new\n' },
    });
    await t.sim.control.call('archiveRepo', { owner: 'acme', name: 'repo-00100' });
    await t.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'brand-new',
      files: { 'go.mod': 'module x\n' },
    });
    const since = await lastSeq(t);

    const [report] = await index.refresh();

    expect(report).toMatchObject({ listing: 'incremental', filesListed: 2, repositories: 251 });
    const requests = await requestsSince(since);
    expect(requests.filter((r) => r === 'graphql')).toHaveLength(2);
    expect(requests.filter((r) => r !== 'graphql').sort()).toEqual([
      '/api/v3/repos/acme/brand-new/git/trees',
      '/api/v3/repos/acme/repo-00007/git/trees',
    ]);
    expect(await index.get(t.repo('repo-00007'))).toMatchObject({
      headCommit: pushed.sha,
      files: expect.arrayContaining(['NEW.md', 'README.md']),
    });
    expect(await index.get(t.repo('repo-00100'))).toMatchObject({ archived: true });
    expect(await index.get(t.repo('brand-new'))).toMatchObject({ files: ['go.mod'], listed: true });
  });
});

describe('queries over descriptions, topics and head commit dates, and count:', () => {
  let t: SimCodeHost;
  let db: TestDatabase;
  let database: DataSource;
  let index: RepositoryIndex;
  let resolver: WorkspaceResolver;

  /** The short names of the repositories a query selects, and the problems it reports. */
  async function select(query: string): Promise<{ names: string[]; problems: string[] }> {
    const result = await resolver.resolve(spec([{ repositoriesMatchingQuery: query }]));
    return {
      names: result.workspaces.map((w) => w.repository.split('/').at(-1)!),
      problems: result.problems.map((p) => p.message),
    };
  }

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 1 });
    await t.sim.control.call('createOrg', { login: 'gadgets', members: ['campaigns-bot'] });
    db = await createTestDatabase('spec_ws');
    database = await openSpecServiceDatabase(db.url);
    const seed: [string, { description?: string; topics?: string[] }][] = [
      ['billing', { description: 'Payments API', topics: ['payments', 'go'] }],
      ['catalog', { topics: ['go'] }],
      ['legacy', { description: 'The old payments page' }],
      ['site', {}],
    ];
    for (const [name, metadata] of seed) {
      await t.sim.control.call('createRepo', {
        owner: 'gadgets',
        name,
        files: { 'README.md': `# ${name}\n` },
        ...metadata,
      });
    }
    const config = { ...t.config, organizations: ['gadgets'] };
    index = new RepositoryIndex({ database, codeHosts: [{ config, codeHost: t.host }] });
    resolver = createWorkspaceResolver({ index });
  });

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
    await t?.sim.stop();
  });

  it('keeps each repository’s description, topics and head commit date from the listing', async () => {
    await index.refresh();
    const billing = await index.get(`${t.config.host}/gadgets/billing`);
    expect(billing).toMatchObject({ description: 'Payments API', topics: ['payments', 'go'] });
    expect(billing!.headCommittedAt).toBeInstanceOf(Date);
    expect(await index.get(`${t.config.host}/gadgets/site`)).toMatchObject({
      description: null,
      topics: [],
    });
  });

  it('selects exactly the repositories with a topic, or whose description matches', async () => {
    expect(await select('repo:has.topic(go)')).toEqual({
      names: ['billing', 'catalog'],
      problems: [],
    });
    expect((await select('repo:has.topic(PAYMENTS)')).names).toEqual(['billing']);
    expect((await select('-repo:has.topic(go)')).names).toEqual(['legacy', 'site']);
    expect((await select('repo:has.description(payments)')).names).toEqual(['billing', 'legacy']);
    expect((await select('repo:has.description(^payments)')).names).toEqual(['billing']);
    expect(await select('repo:has.topic(rust)')).toEqual({
      names: [],
      problems: ['matched no repository'],
    });
  });

  it('keeps the first N matching repositories in name order under count:N and says so', async () => {
    expect(await select('file:README count:2')).toEqual({
      names: ['billing', 'catalog'],
      problems: [
        'count:2 kept the first 2 of the 4 matching repositories (in name order); the others get no workspace',
      ],
    });
    expect(await select('file:README count:4')).toEqual({
      names: ['billing', 'catalog', 'legacy', 'site'],
      problems: [],
    });
    expect((await select('file:README count:all')).names).toHaveLength(4);
  });

  it('reports a workspaces glob written without the host, which matches nothing', async () => {
    const result = await resolver.resolve(
      spec(
        [{ repositoriesMatchingQuery: 'repo:has.topic(go)' }],
        [{ rootAtLocationOf: 'README.md', in: 'gadgets/billing' }],
      ),
    );
    expect(result.workspaces.map((w) => [w.repository, w.path])).toEqual([
      [`${t.config.host}/gadgets/billing`, ''],
      [`${t.config.host}/gadgets/catalog`, ''],
    ]);
    expect(result.problems).toEqual([
      {
        entry: 'workspaces: rootAtLocationOf README.md in gadgets/billing',
        message: `"gadgets/billing" matches none of the 2 resolved repositories: patterns are matched against HOST/OWNER/NAME; did you mean "${t.config.host}/gadgets/billing"?`,
      },
    ]);
  });

  it('selects by the date of the head commit, which a push moves', async () => {
    await index.refresh();
    const dates = (await index.list()).map((r) => r.headCommittedAt!.getTime());
    const latest = new Date(Math.max(...dates));
    // Commit dates have whole seconds: the next commit must come at least a second later.
    while (Date.now() < latest.getTime() + 1000) await new Promise((r) => setTimeout(r, 50));
    await t.sim.control.call('pushCommit', {
      owner: 'gadgets',
      name: 'legacy',
      branch: 'main',
      files: { 'NEWS.md': 'news\n' },
    });
    expect(await select(`repo:has.commit.after(${latest.toISOString()})`)).toEqual({
      names: ['legacy'],
      problems: [],
    });
    expect((await select(`-repo:has.commit.after(${latest.toISOString()})`)).names).toEqual([
      'billing',
      'catalog',
      'site',
    ]);
    expect((await select('repohascommitafter:"1 day ago"')).names).toHaveLength(4);
  });
});
