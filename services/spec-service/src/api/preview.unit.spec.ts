import { describe, expect, it } from '@jest/globals';
import { parseCampaignSpec, type CampaignSpec } from '@campaigns/campaign-spec';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { MAX_PREVIEW_DIFF_BYTES, MAX_PREVIEW_DIFFS_BYTES } from '@campaigns/contracts';
import { cutAtLine, keptDiffs, previewRows, withDiffs, type CurrentChangeset } from './preview.js';

const A = 'github.com/acme/a';
const B = 'github.com/acme/b';

function spec(
  o: { branch?: string; body?: string; published?: string; extension?: string } = {},
): CampaignSpec {
  const parsed = parseCampaignSpec(
    `name: preview
steps:
  - run: echo Hello >> README.md
    container: alpine:3
changesetTemplate:
  title: Hello
  body: ${o.body ?? 'Body'}
  branch: ${o.branch ?? 'hello'}
  commit:
    message: Hello
  published: ${o.published ?? 'true'}
${o.extension ?? ''}`,
    'preview.yaml',
  );
  if (!parsed.spec) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}

const changeset = (o: Partial<CurrentChangeset> = {}): CurrentChangeset => ({
  repository: A,
  headBranch: 'hello',
  wanted: true,
  hostState: 'open',
  imported: false,
  diffSha256: null,
  ...o,
});

describe('previewRows', () => {
  it('a new campaign creates one changeset per repository', () => {
    const rows = previewRows(spec(), [testWorkspace(B), testWorkspace(A)], {
      spec: null,
      changesets: [],
    });
    expect(rows.map((r) => [r.repository, r.headBranch, r.action])).toEqual([
      [A, null, 'create'],
      [B, null, 'create'],
    ]);
  });

  it('a repository whose steps changed nothing shows as no-changes while the steps stay the same', () => {
    const noChanges = new Set([B]);
    const same = previewRows(spec({ body: 'Other' }), [testWorkspace(A), testWorkspace(B)], {
      spec: spec(),
      changesets: [changeset()],
      noChanges,
    });
    expect(same.map((r) => [r.repository, r.headBranch, r.action])).toEqual([
      [A, 'hello', 'update'],
      [B, null, 'no-changes'],
    ]);
    expect(same[1]!.reasons).toEqual([
      'its steps changed nothing when they ran, and they are unchanged',
    ]);

    const changedSteps = spec({ extension: '' });
    changedSteps.steps = [{ ...changedSteps.steps[0]!, run: 'echo Other >> README.md' }];
    const [again] = previewRows(changedSteps, [testWorkspace(B)], {
      spec: spec(),
      changesets: [],
      noChanges,
    });
    expect(again).toMatchObject({ repository: B, headBranch: null, action: 'create' });
    expect(again!.reasons[0]).toContain('its steps changed nothing when they ran; steps changed');
  });

  it('a changeset removed because its steps came to change nothing stays removed, not reopened', () => {
    const removed = changeset({ repository: B, wanted: false, hostState: null });
    const closed = changeset({
      repository: B,
      headBranch: 'old',
      wanted: false,
      hostState: 'closed',
    });
    const rows = previewRows(spec(), [testWorkspace(B)], {
      spec: spec(),
      changesets: [removed, closed],
      noChanges: new Set([B]),
    });
    expect(rows.map((r) => [r.headBranch, r.action, r.reasons[0]])).toEqual([
      [
        'hello',
        'no-changes',
        'its steps changed nothing when they ran, and they are unchanged: the changeset stays removed',
      ],
      [
        'old',
        'no-changes',
        'its steps changed nothing when they ran, and they are unchanged: the changeset stays closed',
      ],
    ]);
    // Matched again after leaving the spec (its steps did not run empty): it comes back.
    const [back] = previewRows(spec(), [testWorkspace(B)], {
      spec: spec(),
      changesets: [removed],
    });
    expect(back!.action).toBe('reopen');
  });

  it('names every changed template field in the reasons of an update', () => {
    const [row] = previewRows(spec({ body: 'Other', published: 'true' }), [testWorkspace(A)], {
      spec: spec({ published: 'draft' }),
      changesets: [changeset()],
    });
    expect(row).toEqual({
      repository: A,
      headBranch: 'hello',
      action: 'update',
      reasons: ['changesetTemplate.body changed', 'changesetTemplate.published changed'],
    });
  });

  it('names auto-merge turned on in the reasons of an update', () => {
    const autoMerge = 'x-campaigns:\n  autoMerge:\n    method: squash\n';
    const [row] = previewRows(spec({ extension: autoMerge }), [testWorkspace(A)], {
      spec: spec(),
      changesets: [changeset()],
    });
    expect(row).toMatchObject({ action: 'update', reasons: ['x-campaigns.autoMerge changed'] });
  });

  it('a changed branch closes the old changeset and creates one on the new branch', () => {
    const rows = previewRows(spec({ branch: 'hello-2' }), [testWorkspace(A)], {
      spec: spec(),
      changesets: [changeset()],
    });
    expect(rows.map((r) => [r.headBranch, r.action])).toEqual([
      [null, 'create'],
      ['hello', 'close'],
    ]);
    expect(rows[1]!.reasons[0]).toMatch(/branch changed from "hello" to "hello-2"/);
  });

  it('leaves merged changesets alone, reopens removed ones, and skips removed ones not back', () => {
    const rows = previewRows(spec(), [testWorkspace(A)], {
      spec: spec(),
      changesets: [
        changeset({ headBranch: 'hello', hostState: 'merged' }),
        changeset({ headBranch: 'other', wanted: false, hostState: 'closed' }),
        changeset({ repository: B, wanted: false, hostState: null }),
      ],
    });
    expect(rows.map((r) => [r.repository, r.headBranch, r.action])).toEqual([
      [A, 'hello', 'unchanged'],
      [A, 'other', 'reopen'],
    ]);
  });

  it('imports listed pull requests, keeps tracked ones, detaches unlisted ones, and never treats them as a workspace', () => {
    const imported = (number: number, o: Partial<CurrentChangeset> = {}) =>
      changeset({ headBranch: `#${number}`, imported: true, ...o });
    const rows = previewRows(
      spec(),
      [testWorkspace(A)],
      {
        spec: spec(),
        changesets: [
          changeset(),
          imported(1),
          imported(2),
          imported(3, { wanted: false, hostState: 'open' }),
        ],
      },
      [
        { repository: A, number: 1 },
        { repository: A, number: 4 },
      ],
    );
    expect(rows.map((r) => [r.repository, r.headBranch, r.action])).toEqual([
      [A, '#1', 'unchanged'],
      [A, '#2', 'detach'],
      [A, '#4', 'import'],
      [A, 'hello', 'unchanged'],
    ]);
  });

  it('refuses published: false for a changeset already published, as apply would, and not for one never published', () => {
    const rows = previewRows(spec({ published: 'false' }), [testWorkspace(A), testWorkspace(B)], {
      spec: spec({ published: 'true' }),
      changesets: [changeset(), changeset({ repository: B, hostState: null })],
    });
    expect(rows.map((r) => [r.repository, r.action])).toEqual([
      [A, 'refused'],
      [B, 'update'],
    ]);
    expect(rows[0]!.reasons[0]).toContain('cannot be unpublished');
    const listed = previewRows(
      spec({ published: `\n    - ${A}: draft` }),
      [testWorkspace(A), testWorkspace(B)],
      {
        spec: spec({ published: 'true' }),
        changesets: [changeset(), changeset({ repository: B })],
      },
    );
    expect(listed.map((r) => [r.repository, r.action])).toEqual([
      [A, 'update'],
      [B, 'refused'],
    ]);
  });
});

describe('preview diffs', () => {
  it('are the changesets whose steps do not run again: unchanged, updated or refused', () => {
    const changesets = [
      changeset({ diffSha256: 'a' }),
      changeset({ repository: B, diffSha256: 'b' }),
    ];
    const same = previewRows(spec({ body: 'Other' }), [testWorkspace(A), testWorkspace(B)], {
      spec: spec(),
      changesets,
    });
    expect(keptDiffs(same, changesets).map((k) => [k.row.repository, k.sha256])).toEqual([
      [A, 'a'],
      [B, 'b'],
    ]);
    // New steps: the diffs are computed anew, unknown until they run.
    const changed = spec();
    changed.steps = [{ ...changed.steps[0]!, run: 'echo Other >> README.md' }];
    const pushed = previewRows(changed, [testWorkspace(A), testWorkspace(B)], {
      spec: spec(),
      changesets,
    });
    expect(pushed.map((r) => r.action)).toEqual(['push', 'push']);
    expect(keptDiffs(pushed, changesets)).toEqual([]);
  });

  it('are cut at a line to the bound of one row, and left empty once the bound of all is spent', () => {
    const line = `+${'x'.repeat(99)}\n`;
    const big = line.repeat(Math.ceil((MAX_PREVIEW_DIFF_BYTES * 2) / line.length));
    const rows = Array.from({ length: 70 }, (_, i) => ({
      repository: `github.com/acme/r${String(i).padStart(2, '0')}`,
      headBranch: 'hello',
      action: 'unchanged' as const,
      reasons: [],
    }));
    const kept = rows.map((row, i) => ({ row, sha256: i === 0 ? 'small' : 'big' }));
    const out = withDiffs(
      rows,
      kept,
      new Map([
        ['small', 'tiny\n'],
        ['big', big],
      ]),
    );
    expect(out[0]!.diff).toEqual({ text: 'tiny\n', truncated: false });
    const second = out[1]!.diff!;
    expect(second.truncated).toBe(true);
    expect(Buffer.byteLength(second.text)).toBeLessThanOrEqual(MAX_PREVIEW_DIFF_BYTES);
    expect(second.text.endsWith('\n') && big.startsWith(second.text)).toBe(true);
    const total = out.reduce((n, r) => n + Buffer.byteLength(r.diff?.text ?? ''), 0);
    expect(total).toBeLessThanOrEqual(MAX_PREVIEW_DIFFS_BYTES);
    expect(out.at(-1)!.diff).toEqual({ text: '', truncated: true });
  });

  it('cut within a multi-byte character or a line, keep whole lines only', () => {
    expect(cutAtLine('ab\ncd\n', 100)).toBe('ab\ncd\n');
    expect(cutAtLine('ab\ncd\n', 5)).toBe('ab\n');
    expect(cutAtLine('é\néé\n', 5)).toBe('é\n');
    expect(cutAtLine('abcdef', 3)).toBe('');
  });
});
