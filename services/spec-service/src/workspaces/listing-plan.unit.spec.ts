import { describe, expect, it } from '@jest/globals';
import type { RepositoryInfo } from '@campaigns/codehost';
import {
  allFresh,
  INCREMENTAL_ORDERS,
  lastRefreshedByHost,
  listsFurther,
  planListing,
  planPage,
  type LastRefresh,
  type StoredRepository,
} from './listing-plan.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const policy = { fullListingIntervalMs: HOUR, marginMs: 5 * MINUTE };
const now = new Date('2026-05-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

function last(overrides: Partial<LastRefresh> = {}): LastRefresh {
  return {
    organizations: ['acme'],
    listingStartedAt: ago(10 * MINUTE),
    fullListingStartedAt: ago(30 * MINUTE),
    ...overrides,
  };
}

function repo(name: string, overrides: Partial<RepositoryInfo> = {}): RepositoryInfo {
  return {
    name: `github.com/acme/${name}`,
    owner: 'acme',
    shortName: name,
    defaultBranch: 'main',
    headCommit: `${name}-head`,
    archived: false,
    fork: false,
    visibility: 'public',
    pushedAt: '2026-05-01T11:58:00Z',
    updatedAt: '2026-05-01T11:58:00Z',
    nodeId: `id-${name}`,
    webUrl: `https://github.com/acme/${name}`,
    description: null,
    topics: [],
    headCommittedAt: '2026-05-01T11:57:00Z',
    ...overrides,
  };
}

function stored(name: string, overrides: Partial<StoredRepository> = {}): StoredRepository {
  return {
    name: `github.com/acme/${name}`,
    nodeId: `id-${name}`,
    filesCommit: `${name}-head`,
    ...overrides,
  };
}

describe('planListing: complete or incremental', () => {
  it.each([
    ['the index never listed this code host', undefined, 'never listed completely'],
    [
      'no complete listing is recorded (an index from before incremental listings)',
      last({ fullListingStartedAt: null }),
      'never listed completely',
    ],
    [
      'the organizations changed since',
      last({ organizations: ['acme', 'widgets'] }),
      'the organizations changed',
    ],
    [
      'the last complete listing started an hour ago',
      last({ fullListingStartedAt: ago(HOUR) }),
      'the last complete listing is too old',
    ],
  ])('lists completely when %s', (_case, previous, reason) => {
    expect(planListing(previous, ['acme'], now, policy)).toEqual({ kind: 'full', reason });
  });

  it('lists incrementally, newest first, back to the last listing’s start minus the margin', () => {
    expect(planListing(last(), ['acme'], now, policy)).toEqual({
      kind: 'incremental',
      since: ago(15 * MINUTE),
      orders: INCREMENTAL_ORDERS,
    });
    expect(INCREMENTAL_ORDERS).toEqual(['pushed', 'updated']);
  });

  it('lists completely when asked to, however recent the last complete listing', () => {
    expect(planListing(last(), ['acme'], now, policy, true)).toEqual({
      kind: 'full',
      reason: 'asked for',
    });
  });

  it('lists completely every time with an interval of 0', () => {
    const plan = planListing(last({ fullListingStartedAt: now }), ['acme'], now, {
      ...policy,
      fullListingIntervalMs: 0,
    });
    expect(plan.kind).toBe('full');
  });
});

describe('listsFurther: where an incremental listing stops', () => {
  const since = new Date('2026-05-01T11:50:00Z');

  it('goes on while the last repository of a page changed at or after the cutoff', () => {
    const page = [repo('a'), repo('b', { pushedAt: '2026-05-01T11:50:00Z' })];
    expect(listsFurther(page, 'pushed', since)).toBe(true);
  });

  it('stops after a page whose last repository changed before the cutoff', () => {
    const page = [repo('a'), repo('b', { pushedAt: '2026-05-01T11:49:59Z' })];
    expect(listsFurther(page, 'pushed', since)).toBe(false);
  });

  it('reads the field the listing is ordered by', () => {
    const page = [repo('a', { pushedAt: '2026-04-01T00:00:00Z' })];
    expect(listsFurther(page, 'pushed', since)).toBe(false);
    expect(listsFurther(page, 'updated', since)).toBe(true);
  });

  it('stops at a repository never pushed to, and at an empty page', () => {
    expect(listsFurther([repo('a', { pushedAt: null })], 'pushed', since)).toBe(false);
    expect(listsFurther([], 'pushed', since)).toBe(false);
  });
});

describe('planPage: what a listed page costs', () => {
  it('lists the files of repositories new to the index or whose head moved, and only those', () => {
    const plan = planPage(
      [repo('new'), repo('same'), repo('moved', { headCommit: 'moved-new-head' })],
      [stored('same'), stored('moved')],
    );
    expect(plan.listFiles.map((r) => r.shortName)).toEqual(['new', 'moved']);
    expect(plan.replaced).toEqual([]);
  });

  it('lists nothing for an empty repository', () => {
    const plan = planPage([repo('empty', { headCommit: null, defaultBranch: '' })], []);
    expect(plan).toEqual({ listFiles: [], replaced: [] });
  });

  it('replaces the row of a repository found under a new name by its node id', () => {
    const plan = planPage([repo('renamed', { nodeId: 'id-old' })], [stored('old')]);
    expect(plan.replaced).toEqual(['github.com/acme/old']);
    expect(plan.listFiles.map((r) => r.shortName)).toEqual(['renamed']);
  });

  it('replaces a row whose name differs only in letter case: the code host’s spelling wins', () => {
    const plan = planPage(
      [repo('Api', { nodeId: 'id-api', headCommit: 'api-head' })],
      [stored('api')],
    );
    expect(plan.replaced).toEqual(['github.com/acme/api']);
    expect(plan.listFiles).toHaveLength(1);
  });

  it('lists again a repository re-created under a name the index knows (another node id)', () => {
    const plan = planPage([repo('api', { nodeId: 'id-new' })], [stored('api')]);
    expect(plan.listFiles.map((r) => r.nodeId)).toEqual(['id-new']);
    expect(plan.replaced).toEqual([]);
  });

  it('keeps the files of a row stored before node ids were kept when its head is unchanged', () => {
    const plan = planPage([repo('api')], [stored('api', { nodeId: null })]);
    expect(plan).toEqual({ listFiles: [], replaced: [] });
  });
});

describe('lastRefreshedByHost', () => {
  it('gives each code host its last refresh, unless its organizations changed since (any case, any order)', () => {
    // Given refreshes recorded for two hosts (organizations stored in lower case).
    const recorded = [
      { codeHostId: 'gh', organizations: ['acme', 'tools'], refreshedAt: ago(MINUTE) },
      { codeHostId: 'gl', organizations: ['acme'], refreshedAt: ago(2 * MINUTE) },
    ];

    // When compared with the hosts as configured now.
    const last = lastRefreshedByHost(recorded, [
      { id: 'gh', organizations: ['Tools', 'ACME'] },
      { id: 'gl', organizations: ['acme', 'more'] },
      { id: 'new', organizations: ['acme'] },
    ]);

    // Then the same organizations keep their time; changed or never refreshed ones have none.
    expect([...last]).toEqual([
      ['gh', ago(MINUTE)],
      ['gl', undefined],
      ['new', undefined],
    ]);
  });
});

describe('allFresh', () => {
  it('is fresh only when every code host was refreshed less than the maximum age ago', () => {
    const at = now.getTime();
    expect(allFresh(new Map([['gh', ago(9_999)]]), at, 10_000)).toBe(true);
    expect(allFresh(new Map([['gh', ago(10_000)]]), at, 10_000)).toBe(false);
    expect(
      allFresh(
        new Map([
          ['gh', ago(1)],
          ['gl', undefined],
        ]),
        at,
        10_000,
      ),
    ).toBe(false);
    expect(allFresh(new Map(), at, 10_000)).toBe(true);
  });
});
