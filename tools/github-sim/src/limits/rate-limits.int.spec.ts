import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import { OpenApiValidator, validatedOctokit } from '../test-support/clients.js';

describe('rate limits as GitHub answers them', () => {
  let sim: GithubSim;
  const ThrottledOctokit = Octokit.plugin(throttling);

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 4 });
    await sim.control.createUser({ login: 'bot' });
    await sim.control.addMember({ org: 'acme', login: 'bot' });
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('answers the 3rd content-creating request in a minute with 403, retry-after and the secondary-limit message; plugin-throttling calls onSecondaryRateLimit and its retry succeeds once the limit allows', async () => {
    // Given a token allowed 2 content-creating requests per minute, told to wait 1 s.
    await sim.control.createToken({
      login: 'bot',
      token: 'bot-secondary',
      limits: { contentPerMinute: 2, secondaryRetryAfterSeconds: 1 },
    });
    const secondary: { retryAfter: number; url: string; retryCount: number }[] = [];
    const primary: number[] = [];
    const octokit = validatedOctokit(sim, 'bot-secondary', {
      OctokitClass: ThrottledOctokit,
      octokitOptions: {
        throttle: {
          // Only to keep the test fast: no 3 s spacing of notification-triggering writes (an
          // option the plugin reads but does not declare).
          ...({ triggersNotification: () => false } as object),
          onSecondaryRateLimit: (
            retryAfter: number,
            options: { url: string },
            _octokit: unknown,
            retryCount: number,
          ) => {
            secondary.push({ retryAfter, url: options.url, retryCount });
            // While the client waits, the minute passes (here: the limit is raised).
            void sim.control.setTokenLimits({
              token: 'bot-secondary',
              limits: { contentPerMinute: 80 },
            });
            return retryCount === 0;
          },
          onRateLimit: (retryAfter: number) => {
            primary.push(retryAfter);
            return false;
          },
        },
      },
    });
    for (const [i, name] of ['repo-00001', 'repo-00002', 'repo-00003'].entries()) {
      await sim.control.pushCommit({
        owner: 'acme',
        name,
        branch: `b${i}`,
        files: { 'f.txt': `${i}\n` },
      });
    }

    // When it opens two pull requests, then a third.
    await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'repo-00001',
      head: 'b0',
      base: 'main',
      title: 'one',
    });
    await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'repo-00002',
      head: 'b1',
      base: 'main',
      title: 'two',
    });
    const raw = await fetch(`${sim.apiUrl}/repos/acme/repo-00003/pulls`, {
      method: 'POST',
      headers: { authorization: 'token bot-secondary' },
      body: JSON.stringify({ head: 'b2', base: 'main', title: 'three' }),
    });

    // Then GitHub's answer: 403, retry-after, the secondary-limit message, the primary headers intact.
    expect(raw.status).toBe(403);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(Number(raw.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
    const body = (await raw.json()) as { message: string; documentation_url: string };
    expect(body.message).toMatch(
      /^You have exceeded a secondary rate limit and have been temporarily blocked from content creation\./,
    );
    expect(body.documentation_url).toBe(
      'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
    );
    expect(
      OpenApiValidator.shared().check('POST', '/repos/{owner}/{repo}/pulls', 403, body),
    ).toBeNull();

    // And through the plugin: onSecondaryRateLimit fires with retry-after; while it waits, the
    // limit is raised, so its retry goes through.
    const third = octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'repo-00003',
      head: 'b2',
      base: 'main',
      title: 'three',
    });
    const { data } = await third;
    expect(data.title).toBe('three');
    expect(secondary).toEqual([
      { retryAfter: 1, url: '/repos/{owner}/{repo}/pulls', retryCount: 0 },
    ]);
    expect(primary).toEqual([]);

    // The request log counts what created content.
    const log = await sim.control.requests({ kind: 'rest' });
    const creations = log.filter((e) => e.token === 'bot-secondary' && e.method === 'POST');
    expect(creations.map((e) => [e.status, e.createdContent])).toEqual([
      [201, true],
      [201, true],
      [403, false],
      [403, false],
      [201, true],
    ]);
  });

  it('answers requests past the primary limit with 403 and x-ratelimit-remaining 0; plugin-throttling calls onRateLimit with the wait until reset', async () => {
    await sim.control.createToken({ login: 'bot', token: 'bot-primary', limits: { core: 3 } });
    const waits: number[] = [];
    const octokit = validatedOctokit(sim, 'bot-primary', {
      OctokitClass: ThrottledOctokit,
      octokitOptions: {
        throttle: {
          onSecondaryRateLimit: () => false,
          onRateLimit: (retryAfter: number) => {
            waits.push(retryAfter);
            return false;
          },
        },
      },
    });
    for (let i = 0; i < 3; i++) await octokit.rest.repos.get({ owner: 'acme', repo: 'repo-00001' });
    const error = await octokit.rest.repos
      .get({ owner: 'acme', repo: 'repo-00001' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 403,
      response: {
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-limit': '3',
          'x-ratelimit-used': '3',
        },
      },
    });
    expect((error as { message: string }).message).toMatch(
      /API rate limit exceeded for user ID \d+\./,
    );
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(3500);
    expect(waits[0]).toBeLessThanOrEqual(3602);

    // rate_limit itself is free and shows the exhausted budget.
    const { data } = await octokit.rest.rateLimit.get();
    expect(data.resources.core).toMatchObject({ limit: 3, remaining: 0, used: 3 });
  });

  it('can answer primary exhaustion with 429 instead', async () => {
    sim.core.primaryLimitStatus = 429;
    await sim.control.createToken({ login: 'bot', token: 'bot-429', limits: { core: 1 } });
    await fetch(`${sim.apiUrl}/repos/acme/repo-00001`, {
      headers: { authorization: 'token bot-429' },
    });
    const second = await fetch(`${sim.apiUrl}/repos/acme/repo-00001`, {
      headers: { authorization: 'token bot-429' },
    });
    expect(second.status).toBe(429);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    sim.core.primaryLimitStatus = 403;
  });

  it('refuses requests beyond the concurrency limit with a secondary-limit 403', async () => {
    await sim.control.createToken({
      login: 'bot',
      token: 'bot-concurrency',
      limits: { concurrency: 1 },
    });
    await sim.control.configureFaults({ latency: { kind: 'fixed', ms: 150 } });
    const get = () =>
      fetch(`${sim.apiUrl}/repos/acme/repo-00001`, {
        headers: { authorization: 'token bot-concurrency' },
      });
    const statuses = (await Promise.all([get(), get()])).map((r) => r.status).sort();
    await sim.control.configureFaults({ latency: { kind: 'none' } });
    expect(statuses).toEqual([200, 403]);
  });

  it('charges GraphQL points through the hook the GraphQL endpoint uses', async () => {
    const token = await sim.control.createToken({
      login: 'bot',
      token: 'bot-graphql',
      limits: { graphql: 10 },
    });
    const record = sim.state.getToken(token.token)!;
    expect(sim.core.chargeGraphqlPoints(record, '127.0.0.1', 7)).toMatchObject({
      ok: true,
      snapshot: { remaining: 3, used: 7 },
    });
    expect(sim.core.chargeGraphqlPoints(record, '127.0.0.1', 4)).toMatchObject({
      ok: false,
      snapshot: { remaining: 3 },
    });
  });
});
