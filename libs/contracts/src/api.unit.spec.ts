import { describe, expect, it } from '@jest/globals';
import {
  API_CONTRACTS,
  API_VERBS,
  NAMESPACED_VERBS,
  apiSubject,
  describeInvalid,
  executionsRequestSchema,
  listRequestSchema,
  MAX_PAGE_ROWS,
  previewPartSchema,
  replyProblem,
  type ApiVerb,
} from './api.js';

const problem = (verb: ApiVerb, body: unknown): string | null => {
  const parsed = API_CONTRACTS[verb].request.safeParse(body);
  return parsed.success ? null : describeInvalid(parsed.error);
};

describe('API contracts', () => {
  it('keeps test topologies apart in API subjects', () => {
    expect(apiSubject({ subjectPrefix: 'ev' }, 'apply')).toBe('campaign.apply');
    expect(apiSubject({ subjectPrefix: 'evtx' }, 'get')).toBe('campaign.evtx.get');
  });

  it('accepts the requests the CLI sends, defaults left to the service', () => {
    expect(problem('apply', { fileName: 'a.yaml', specText: '', actor: 'alice' })).toBeNull();
    expect(problem('list', {})).toBeNull();
    expect(listRequestSchema.parse({ after: null })).toEqual({ after: null });
    expect(
      executionsRequestSchema.parse({
        campaign: 'c',
        applyId: '0b7c1a34-3f0e-4a43-9d0e-3d2f7f3b1a11',
        filter: 'failed',
        limit: MAX_PAGE_ROWS,
      }),
    ).toMatchObject({ filter: 'failed', limit: MAX_PAGE_ROWS });
  });

  it('says, in one line naming the field, what is wrong with a request', () => {
    expect(problem('apply', { fileName: 'x.yaml', actor: 'alice' })).toBe(
      '"specText" must be a string',
    );
    expect(problem('apply', { fileName: ' ', specText: '', actor: 'alice' })).toBe(
      '"fileName" must be a non-empty string',
    );
    expect(problem('get', { campaign: 'x'.repeat(1001) })).toBe('"campaign" is too long');
    expect(problem('changesets', { campaign: 'c', limit: 0 })).toBe(
      `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}`,
    );
    expect(problem('list', { limit: 1.5 })).toBe(
      `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}`,
    );
    expect(problem('executions', { campaign: 'c', filter: 'errored' })).toBe(
      '"filter" must be one of "all", "failed"',
    );
    expect(problem('executions', { campaign: 'c', applyId: 'yesterday' })).toBe(
      '"applyId" must be a UUID',
    );
    expect(problem('changesets', { campaign: 'c', after: 7 })).toBe(
      '"after" must be the "next" of a previous page',
    );
  });

  it('tells an API reply from anything else, and checks the fields of a success', () => {
    const result = {
      campaign: 'c',
      applyId: 'a',
      specHash: 'h',
      unchanged: false,
      warnings: [],
    };
    expect(replyProblem('apply', { ok: true, ...result })).toBeNull();
    expect(
      replyProblem('apply', { ok: false, error: { code: 'not-found', message: 'no campaign' } }),
    ).toBeNull();
    expect(replyProblem('apply', { ok: true, ...result, unchanged: 'no' })).toBe(
      '"unchanged": Invalid input: expected boolean, received string',
    );
    expect(replyProblem('apply', { ok: false, error: { code: 'teapot', message: '' } })).toMatch(
      /^"error": "code": Invalid option/,
    );
    expect(replyProblem('apply', { status: 'error' })).toBe('"ok" must be true or false');
    expect(replyProblem('apply', [1])).toBe('it is not a JSON object');
  });

  it('reads both kinds of preview message', () => {
    const head = { head: { campaign: 'c', rowCount: 1, problems: [], warnings: [] } };
    const rows = {
      rows: [{ repository: 'r', headBranch: null, action: 'create', reasons: ['new'] }],
    };
    expect(previewPartSchema.parse(head)).toEqual(head);
    expect(previewPartSchema.parse(rows)).toEqual(rows);
    expect(previewPartSchema.safeParse({ rows: [{ repository: 'r' }] }).success).toBe(false);
  });
});

describe('namespaced verbs', () => {
  it('are exactly those whose request schema takes a namespace', () => {
    for (const verb of API_VERBS) {
      const shape = (API_CONTRACTS[verb].request as unknown as { shape: object }).shape;
      const takes = 'namespace' in shape;
      expect({ verb, takes }).toEqual({ verb, takes: NAMESPACED_VERBS.has(verb) });
    }
  });
});
