import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../command.js';
import { bulkRequestOf, formatBulkResults, matchOf } from './changesets.command.js';
import { PIPED } from './format.js';

const ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51';

describe('campaign changesets options', () => {
  it('makes a match of the filters given, and nothing of those not given', () => {
    expect(matchOf({})).toEqual({});
    expect(
      matchOf({ state: 'open', checks: 'failed', review: 'approved', repo: 'github.com/acme/*' }),
    ).toEqual({
      state: 'open',
      checks: 'failed',
      review: 'approved',
      repository: 'github.com/acme/*',
    });
  });

  it('asks for no bulk operation without --do, and for one with it, with a new id unless given', () => {
    expect(bulkRequestOf('hello', { state: 'open' })).toBeNull();
    const request = bulkRequestOf('hello', {
      do: 'comment',
      message: 'Please rebase',
      checks: 'failed',
    });
    expect(request).toMatchObject({
      campaign: 'hello',
      operation: 'comment',
      message: 'Please rebase',
      match: { checks: 'failed' },
    });
    expect(request!.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      bulkRequestOf('hello', { do: 'merge', method: 'squash', id: ID.toUpperCase() }),
    ).toMatchObject({ operationId: ID, operation: 'merge', method: 'squash' });
  });

  it('refuses options that belong to another operation, or a missing comment, before sending anything', () => {
    const refused = (options: Record<string, unknown>) => () => bulkRequestOf('h', options);
    expect(refused({ do: 'comment' })).toThrow(
      new UsageError('--do comment needs the comment: -m TEXT'),
    );
    expect(refused({ do: 'comment', message: '  ' })).toThrow(UsageError);
    expect(refused({ do: 'close', message: 'x' })).toThrow(
      new UsageError("-m is the comment's text; --do close takes none"),
    );
    expect(refused({ do: 'close', method: 'squash' })).toThrow(
      new UsageError('--method is for --do merge, not --do close'),
    );
    expect(refused({ message: 'x', id: ID })).toThrow(new UsageError('-m, --id only go with --do'));
    expect(refused({ do: 'retry', id: 'not-a-uuid' })).toThrow(/--id needs a UUID/);
  });
});

describe('formatBulkResults', () => {
  it('prints the counts, then one row per changeset with its result and why', () => {
    const text = formatBulkResults(
      {
        operationId: ID,
        campaign: 'hello',
        operation: 'close',
        actor: 'ada',
        changesets: 3,
        done: 1,
        skipped: 1,
        failed: 0,
        results: [
          {
            repository: 'github.com/acme/api',
            headBranch: 'hello',
            number: 7,
            result: 'done',
            message: 'closed',
          },
          {
            repository: 'github.com/acme/web',
            headBranch: 'hello',
            number: null,
            result: 'skipped',
            message: 'not published: there is no pull request to close',
          },
        ],
      },
      PIPED,
    );
    expect(text).toBe(
      `close on 3 changesets of hello (operation ${ID}): 1 done, 1 skipped, 0 failed, 1 pending\n\n` +
        'REPOSITORY           PR  RESULT   MESSAGE\n' +
        'github.com/acme/api  #7  done     closed\n' +
        'github.com/acme/web  -   skipped  not published: there is no pull request to close\n',
    );
  });
});
