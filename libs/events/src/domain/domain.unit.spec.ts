import { describe, expect, it } from '@jest/globals';
import { EventValidationError } from '../store/errors.js';
import { changesetId, deterministicEventId, executionId, jobsTopology, sha256Hex } from './ids.js';
import { campaignsCatalogue, DOMAIN_EVENTS } from './events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('domain ids', () => {
  it('names a changeset by campaign, repository and head branch, and nothing else', () => {
    const a = changesetId('hello', 'github.com/acme/api', 'hello-world');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(changesetId('hello', 'github.com/acme/api', 'hello-world')).toBe(a);
    expect(changesetId('hello', 'github.com/acme/api', 'other')).not.toBe(a);
    expect(changesetId('other', 'github.com/acme/api', 'hello-world')).not.toBe(a);
    // The separator keeps shifted boundaries apart.
    expect(changesetId('a', 'bc', 'd')).not.toBe(changesetId('ab', 'c', 'd'));
  });

  it('gives an execution the same id for the same application, repository, branch and path', () => {
    const apply = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const root = { repository: 'h/o/r', branch: 'main', path: '' };
    expect(executionId(apply, root)).toBe(executionId(apply, { ...root }));
    expect(executionId(apply, { ...root, path: 'pkg' })).not.toBe(executionId(apply, root));
    expect(executionId(apply, { ...root, branch: 'release' })).not.toBe(executionId(apply, root));
  });

  it('makes deterministic event ids that are valid UUIDs', () => {
    const id = deterministicEventId('cause', 'result');
    expect(id).toMatch(UUID);
    expect(deterministicEventId('cause', 'result')).toBe(id);
    expect(deterministicEventId('cause', 'other')).not.toBe(id);
    for (let i = 0; i < 200; i++) expect(deterministicEventId(String(i))).toMatch(UUID);
  });

  it('keeps test topologies apart in job queues', () => {
    const jobs = jobsTopology({ streamName: 'EVENTS', subjectPrefix: 'ev' });
    expect(jobs.streamName).toBe('EVENTS_JOBS');
    // Must not overlap the events stream's `ev.>` subjects.
    expect(jobs.subject.startsWith('ev.')).toBe(false);
  });
});

describe('campaignsCatalogue', () => {
  const catalogue = campaignsCatalogue();

  it('knows every domain event', () => {
    expect(catalogue.types.sort()).toEqual(DOMAIN_EVENTS.map((d) => d.type).sort());
  });

  it('accepts a well-formed SpecApplied and refuses one without its hash', () => {
    const text = 'name: x\n';
    const good = {
      campaign: 'x',
      applyId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      specHash: sha256Hex(text),
      specText: text,
      fileName: 'x.yaml',
      actor: 'alice',
    };
    expect(catalogue.validate('SpecApplied', good).data).toEqual(good);
    const { specHash: _omitted, ...bad } = good;
    expect(() => catalogue.validate('SpecApplied', bad)).toThrow(EventValidationError);
  });

  it('refuses unknown fields, so a typo cannot slip into the log', () => {
    expect(() =>
      catalogue.validate('ChangesetClosed', {
        changesetId: '0'.repeat(32),
        campaign: 'x',
        repository: 'h/o/r',
        headBranch: 'b',
        specEventId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        number: 1,
        url: 'u',
        reason: 'r',
        extra: true,
      }),
    ).toThrow(/extra|Unrecognized/i);
  });

  it('reads a v1 WorkspacesResolved, which listed every workspace, as a count with at most 100 problems', () => {
    const problems = Array.from({ length: 130 }, (_, i) => ({
      entry: `repository: r${i}`,
      message: 'not found',
    }));
    const v1 = {
      campaign: 'x',
      applyId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      specHash: sha256Hex('x'),
      workspaces: [{}, {}, {}],
      problems,
    };
    expect(catalogue.upcast('WorkspacesResolved', 1, v1)).toEqual({
      campaign: 'x',
      applyId: v1.applyId,
      specHash: v1.specHash,
      workspaceCount: 3,
      problems: problems.slice(0, 100),
      problemsOmitted: 30,
    });
  });
  it('reads a v1 ChangesetPublished, which had no body, with body null, and a v1 push as it was', () => {
    const identity = {
      changesetId: 'c'.repeat(32),
      campaign: 'x',
      repository: 'github.com/acme/a',
      headBranch: 'b',
      specEventId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    };
    const published = {
      ...identity,
      number: 7,
      url: 'u',
      nodeId: 'n',
      draft: false,
      baseRef: 'main',
      headRefOid: 'a'.repeat(40),
      title: 't',
    };
    const upcast = catalogue.upcast('ChangesetPublished', 1, published);
    expect(upcast).toEqual({ ...published, body: null });
    expect(catalogue.validate('ChangesetPublished', upcast).schemaVersion).toBe(2);
    const push = {
      ...identity,
      operation: 'push',
      number: null,
      commitSha: 'c'.repeat(40),
      diffSha256: 'd'.repeat(64),
    };
    expect(catalogue.upcast('ChangesetUpdated', 1, push)).toEqual(push);
  });
});
