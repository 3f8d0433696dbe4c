import { describe, expect, it } from '@jest/globals';
import {
  bulkAction,
  campaignName,
  namespaceParam,
  changesetKey,
  changesetMatch,
  pageParams,
  MAX_BULK_REPOSITORIES,
} from './query-params.js';
import { dashboardSettingsFromEnv } from '../dashboard-settings.js';

const REPO = 'github.com/acme/api';

describe("the dashboard API's input", () => {
  it('takes a campaign name as the spec allows it, and refuses anything else in one line', () => {
    expect(campaignName('hello-world.v2')).toBe('hello-world.v2');
    // NAMESPACE/NAME names the namespace too (absent: the caller's default).
    expect(campaignName('alice/hello-world')).toBe('alice/hello-world');
    expect(() => campaignName('a b/hello')).toThrow(/^the namespace must be 1 to 63/);
    expect(() => campaignName('../etc')).toThrow(/^the namespace must be 1 to 63/);
    expect(() => campaignName('alice/x/y')).toThrow(/^the campaign name must be/);
    expect(namespaceParam({ namespace: 'acme' })).toBe('acme');
    expect(namespaceParam({})).toBeUndefined();
    expect(() => namespaceParam({ namespace: '../x' })).toThrow(/^"namespace" must be/);
    for (const bad of ['', 'a b', 'etc/a b', 'x'.repeat(256), 7])
      expect(() => campaignName(bad)).toThrow(
        'the campaign name must be letters, digits, "_", "." or "-" (at most 255)',
      );
  });

  it('pages at most 100 rows, 50 when not asked', () => {
    expect(pageParams({})).toEqual({ after: null, limit: 50 });
    expect(pageParams({ limit: '100', after: 'abc' })).toEqual({ after: 'abc', limit: 100 });
    for (const limit of ['0', '101', '1e2', '-1', 'ten'])
      expect(() => pageParams({ limit })).toThrow('"limit" must be a whole number from 1 to 100');
    expect(() => pageParams({ limit: ['1', '2'] })).toThrow('"limit" must be given once, as text');
  });

  it('filters by state, checks, review and repository, naming the allowed values when one is wrong', () => {
    expect(
      changesetMatch({ state: 'open', checks: 'failed', review: '', repository: REPO }),
    ).toEqual({ state: 'open', checks: 'failed', repository: REPO });
    expect(() => changesetMatch({ review: 'maybe' })).toThrow(
      '"review" must be one of approved, changes-requested, pending; got "maybe"',
    );
  });

  it('names a changeset by HOST/OWNER/NAME and its head branch', () => {
    expect(changesetKey({ repository: REPO, branch: 'hello' })).toEqual({
      repository: REPO,
      headBranch: 'hello',
    });
    expect(() => changesetKey({ repository: REPO })).toThrow(
      'a changeset is named by "repository" and "branch"',
    );
    expect(() => changesetKey({ repository: 'acme/api', branch: 'x' })).toThrow(
      '"repository" must be HOST/OWNER/NAME; got "acme/api"',
    );
  });

  describe('a bulk action', () => {
    it('acts on the selected repositories within the filters', () => {
      expect(
        bulkAction({
          operation: 'comment',
          message: 'Please look',
          match: { checks: 'failed' },
          repositories: [REPO, REPO],
        }),
      ).toEqual({
        operation: 'comment',
        message: 'Please look',
        match: { checks: 'failed' },
        repositories: [REPO],
      });
      expect(bulkAction({ operation: 'merge', method: 'squash' })).toEqual({
        operation: 'merge',
        method: 'squash',
        match: {},
        repositories: [],
      });
    });

    it.each([
      [null, 'the bulk action must be a JSON object'],
      [{}, '"operation" is required'],
      [
        { operation: 'delete' },
        '"operation" must be one of comment, merge, close, publish, retry; got "delete"',
      ],
      [{ operation: 'comment', message: '  ' }, 'a comment needs a message'],
      [{ operation: 'close', message: 'x' }, '"message" is only for comment'],
      [{ operation: 'close', method: 'squash' }, '"method" is only for merge'],
      [
        { operation: 'close', repositories: 'all' },
        '"repositories" must be a list of repository names',
      ],
      [
        { operation: 'close', repositories: ['github.com/acme/*'] },
        '"github.com/acme/*" is not a repository name',
      ],
      [
        { operation: 'close', repositories: Array.from({ length: 101 }, (_, i) => `${REPO}${i}`) },
        `select at most ${MAX_BULK_REPOSITORIES} repositories at once`,
      ],
    ])('refuses %j: %s', (body, message) => {
      expect(() => bulkAction(body)).toThrow(message);
    });
  });
});

describe('DASHBOARD_BULK_ACTIONS', () => {
  it('leaves bulk actions on by default, turns them off with "off", and stops startup on anything else', () => {
    expect(dashboardSettingsFromEnv({})).toEqual({ bulkActions: true });
    expect(dashboardSettingsFromEnv({ DASHBOARD_BULK_ACTIONS: 'off' })).toEqual({
      bulkActions: false,
    });
    expect(dashboardSettingsFromEnv({ DASHBOARD_BULK_ACTIONS: ' on ' })).toEqual({
      bulkActions: true,
    });
    expect(() => dashboardSettingsFromEnv({ DASHBOARD_BULK_ACTIONS: 'yes' })).toThrow(
      'DASHBOARD_BULK_ACTIONS must be "on" or "off", got "yes"',
    );
  });
});
