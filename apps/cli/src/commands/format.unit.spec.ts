import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { CHANGESET_STATES, countedChangesetState } from '@campaigns/contracts';
import { sampleStatus } from '../test-support/sample-status.js';
import {
  formatCounts,
  formatList,
  formatPreview,
  formatProgress,
  formatStatus,
  lastLine,
  renderTable,
} from './format.js';

describe('renderTable', () => {
  it('aligns columns by two spaces, shows empty cells as - and keeps each cell on one line', () => {
    expect(
      renderTable(
        ['A', 'LONGER', 'LAST'],
        [
          ['x', '', 'end'],
          ['wide value', 'two\nlines', ''],
        ],
      ),
    ).toBe(
      [
        'A           LONGER     LAST',
        'x           -          end',
        'wide value  two lines  -',
        '',
      ].join('\n'),
    );
  });

  it('shortens very long cells on a terminal', () => {
    const out = renderTable(['X'], [['y'.repeat(300)]], { tty: true, colour: false, wide: false });
    expect(out.split('\n')[1]).toHaveLength(100);
    expect(out.split('\n')[1]!.endsWith('…')).toBe(true);
  });

  it('cuts nothing when piped or wide', () => {
    const long = 'y'.repeat(300);
    expect(renderTable(['X'], [[long]]).split('\n')[1]).toBe(long);
    expect(
      renderTable(['X'], [[long]], { tty: true, colour: false, wide: true }).split('\n')[1],
    ).toBe(long);
  });

  it('never cuts an error, even on a terminal', () => {
    const error = `cannot be unpublished; ${'x'.repeat(150)} set published: true again`;
    const out = renderTable(['REPOSITORY', 'LAST ERROR'], [['github.com/acme/api', error]], {
      tty: true,
      colour: false,
      wide: false,
    });
    expect(out.split('\n')[1]).toBe(`github.com/acme/api  ${error}`);
  });

  describe('on a terminal of a given width', () => {
    const headers = ['REPOSITORY', 'STATE', 'PR URL', 'LAST ERROR'];
    const url = 'https://github.example.com/acme-corporation/payments-api/pull/1234';
    const error = 'push refused: the branch is protected; ask an admin to allow campaign pushes';
    const rows = [
      ['github.example.com/acme-corporation/payments-api', 'failed', url, error],
      ['github.example.com/acme/web', 'open', url, ''],
    ];
    const tty = (columns: number) => ({ tty: true, colour: false, wide: false, columns });

    it('shrinks the widest columns with an ellipsis and keeps the error whole', () => {
      const [, first, second] = renderTable(headers, rows, tty(120)).split('\n');
      // 203 columns shrink to 120: PR URL (the widest) first, then it and REPOSITORY in turn.
      expect(first).toBe(`github.example.…  failed  https://github.…  ${error}`);
      expect(first).toHaveLength(120);
      expect(second).toBe('github.example.…  open    https://github.…  -');
    });

    it('leaves a table that fits alone, and cuts nothing piped or wide', () => {
      const wideEnough = renderTable(headers, rows, tty(1000));
      expect(wideEnough).toBe(renderTable(headers, rows));
      expect(renderTable(headers, rows, { ...tty(40), tty: false })).toBe(wideEnough);
      expect(renderTable(headers, rows, { ...tty(40), wide: true })).toBe(wideEnough);
      expect(wideEnough).toContain(url);
    });

    it('shrinks a column no further than its header or 12 characters; the rest wraps', () => {
      const [header, first] = renderTable(headers, rows, tty(10)).split('\n');
      expect(header).toMatch(/^REPOSITORY {4}STATE {3}PR URL {8}LAST ERROR$/);
      expect(first).toBe(`github.exam…  failed  https://git…  ${error}`);
    });
  });

  it('colours states only when asked, keeping the columns aligned', () => {
    const rows = [
      ['a', 'needs-attention', 'x'],
      ['bb', 'complete', 'y'],
    ];
    const plain = renderTable(['N', 'PHASE', 'Z'], rows);
    expect(plain).not.toContain('\x1b[');
    const coloured = renderTable(['N', 'PHASE', 'Z'], rows, {
      tty: true,
      colour: true,
      wide: false,
    });
    expect(coloured).toContain('\x1b[31mneeds-attention\x1b[39m');
    expect(coloured).toContain('\x1b[32mcomplete\x1b[39m');
    expect(stripVTControlCharacters(coloured)).toBe(plain);
  });
});

describe('formatStatus', () => {
  it('shows the phase and counts, every changeset with its branch, and the failed executions with their last stderr line', () => {
    expect(formatStatus(sampleStatus)).toBe(
      [
        'Campaign hello-world: needs-attention',
        'Applied 2026-01-01T00:00:00.000Z by alice (apply 6f1c1b0e-0000-4000-8000-000000000001)',
        '3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
        '',
        'REPOSITORY           BRANCH       STATE    DRAFT  CHECKS   REVIEW    PR URL                              LAST ERROR',
        'github.com/acme/api  hello-world  open     no     SUCCESS  APPROVED  https://github.com/acme/api/pull/1  -',
        'github.com/acme/cli  hello-world  pending  yes    -        -         -                                   repository is archived (terminal)',
        '',
        'Failed executions:',
        'REPOSITORY           BRANCH  PATH      MESSAGE               STDERR',
        'github.com/acme/web  main    frontend  step 1 exited with 2  npm ERR! missing script: lint',
        '',
        'Problems:',
        '  repository: github.com/acme/gone: no such repository',
        '',
      ].join('\n'),
    );
  });

  it("shows a workspace's path beside its branch when it is not the repository's root", () => {
    const [root] = sampleStatus.changesets;
    const out = formatStatus({
      ...sampleStatus,
      changesets: [root!, { ...root!, path: 'packages/web', url: null, number: null }],
      executions: [],
      problems: [],
    });
    const rows = out.split('\n').filter((line) => line.startsWith('github.com/acme/api'));
    expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['github.com/acme/api', 'hello-world'],
      ['github.com/acme/api', 'hello-world (packages/web)'],
    ]);
  });

  it("wide shows each changeset's base branch, rendered title and diffstat, and every execution", () => {
    const [api, cli] = sampleStatus.changesets;
    const out = formatStatus(
      {
        ...sampleStatus,
        changesets: [
          {
            ...api!,
            title: 'Say hello',
            baseBranch: 'main',
            diffstat: { files: 2, added: 12, deleted: 4 },
          },
          // Lines not counted (a diff too large to read), and an imported one with neither.
          { ...cli!, title: 'Say hello', baseBranch: 'develop', diffstat: { files: 1 } },
          { ...api!, headBranch: '#7', imported: true },
        ],
        problems: [],
      },
      { tty: false, colour: false, wide: true },
    );
    const lines = out.split('\n');
    const header = lines.find((l) => l.startsWith('REPOSITORY           BRANCH'))!;
    expect(header.split(/\s{2,}/)).toEqual([
      'REPOSITORY',
      'BRANCH',
      'BASE',
      'STATE',
      'DRAFT',
      'CHECKS',
      'REVIEW',
      'PR URL',
      'TITLE',
      'DIFF',
      'CONVERGED',
      'UPDATED',
      'LAST ERROR',
    ]);
    const cells = (start: string) => lines.find((l) => l.startsWith(start))!.split(/\s{2,}/);
    expect(cells('github.com/acme/api  hello-world').slice(0, 3)).toEqual([
      'github.com/acme/api',
      'hello-world',
      'main',
    ]);
    expect(cells('github.com/acme/api  hello-world').slice(8, 10)).toEqual([
      'Say hello',
      '2 files +12 −4',
    ]);
    expect(cells('github.com/acme/cli').slice(8, 10)).toEqual(['Say hello', '1 file']);
    expect(cells('github.com/acme/api  #7').slice(8, 10)).toEqual(['-', '-']);
    expect(cells('github.com/acme/api  #7')[2]).toBe('-');
    expect(out).toContain('Executions:\n');
  });

  it('says when there are no changesets', () => {
    const out = formatStatus({ ...sampleStatus, changesets: [], executions: [], problems: [] });
    expect(out.endsWith('\nNo changesets.\n')).toBe(true);
  });
});

describe('formatCounts', () => {
  /** Counts with `n` changesets in each state, the totals as the database sums them. */
  const countsWith = (states: Partial<Record<(typeof CHANGESET_STATES)[number], number>>) => {
    const all = Object.fromEntries(CHANGESET_STATES.map((s) => [s, states[s] ?? 0])) as Record<
      (typeof CHANGESET_STATES)[number],
      number
    >;
    return {
      ...sampleStatus.counts,
      errored: 0,
      states: all,
      changesets: CHANGESET_STATES.filter(countedChangesetState).reduce((n, s) => n + all[s], 0),
    };
  };
  /** The numbers of the changesets' part, before and after its colon, and what is apart. */
  const parts = (line: string) => {
    const m = /(\d+) changesets?(?:: ([^;]*))?(?:; not counted: ([^;]*))?/.exec(line)!;
    const numbers = (text: string | undefined) =>
      (text ?? '')
        .split(', ')
        .filter(Boolean)
        .map((p) => /^(\d+) (\S+)$/.exec(p)!.slice(1));
    return { total: Number(m[1]), counted: numbers(m[2]), apart: numbers(m[3]) };
  };

  it.each(CHANGESET_STATES.map((s) => [s]))(
    'counts a changeset in state %s once: among the total when counted, apart when not',
    (state) => {
      const line = formatCounts(countsWith({ open: 2, [state]: (state === 'open' ? 2 : 0) + 1 }));
      const { total, counted, apart } = parts(line);
      const sum = counted.reduce((n, [k]) => n + Number(k), 0);
      expect(sum).toBe(total);
      const where = countedChangesetState(state) ? counted : apart;
      expect(where.map(([, s]) => s)).toContain(state);
      expect(total).toBe(countedChangesetState(state) ? 3 : 2);
    },
  );

  it('sums every counted state to the total and names what is not counted apart', () => {
    const line = formatCounts(
      countsWith({ open: 5, merged: 2, scheduled: 1, archived: 3, removed: 1, detached: 1 }),
    );
    expect(line).toBe(
      '3 workspaces: 3 executed, 1 failed; 8 changesets: 1 scheduled, 5 open, 2 merged; ' +
        'not counted: 1 removed, 3 archived, 1 detached',
    );
  });

  it('says how many workspaces changed nothing, and that a campaign has no changesets', () => {
    expect(formatCounts({ ...countsWith({}), noChanges: 2 })).toBe(
      '3 workspaces: 3 executed, 1 failed, 2 with no changes; 0 changesets',
    );
  });
});

describe('formatProgress and lastLine', () => {
  it('puts the counts on one line', () => {
    expect(formatProgress(sampleStatus)).toBe(
      'hello-world: needs-attention — 3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
    );
  });

  it('takes the last line that says something', () => {
    expect(lastLine('a\nb\n  \n')).toBe('b');
    expect(lastLine(null)).toBe('');
  });
});

describe('formatPreview and formatList', () => {
  it('shows each repository with its action and reasons', () => {
    expect(
      formatPreview({
        campaign: 'hello-world',
        rows: [
          { repository: 'github.com/acme/api', headBranch: null, action: 'create', reasons: [] },
          {
            repository: 'github.com/acme/web',
            headBranch: 'hello-world',
            action: 'update',
            reasons: ['title changed', 'body changed'],
          },
        ],
        problems: [{ entry: 'file:README.md', message: 'matched nothing' }],
        warnings: [],
      }),
    ).toBe(
      [
        'Campaign hello-world: 1 create, 1 update',
        'REPOSITORY                       ACTION  REASONS',
        'github.com/acme/api              create  -',
        'github.com/acme/web@hello-world  update  title changed; body changed',
        '',
        'Problems:',
        '  file:README.md: matched nothing',
        '',
      ].join('\n'),
    );
  });

  it('prints each diff the preview carries after the table, saying where one was cut or left out', () => {
    const row = (repository: string, diff?: { text: string; truncated: boolean }) => ({
      repository,
      headBranch: 'hello',
      action: 'unchanged' as const,
      reasons: [],
      ...(diff === undefined ? {} : { diff }),
    });
    const out = formatPreview({
      campaign: 'hello-world',
      rows: [
        row('github.com/acme/a', { text: '+one\n', truncated: false }),
        row('github.com/acme/b'),
        row('github.com/acme/c', { text: '+two\n', truncated: true }),
        row('github.com/acme/d', { text: '', truncated: true }),
      ],
      problems: [],
      warnings: [],
    });
    expect(out.slice(out.indexOf('\nDiff of'))).toBe(
      [
        '',
        'Diff of github.com/acme/a@hello:',
        '+one',
        '',
        'Diff of github.com/acme/c@hello:',
        '+two',
        '(cut here: the rest is not shown)',
        '',
        'Diff of github.com/acme/d@hello:',
        '(not shown: the preview carries no more diffs)',
        '',
      ].join('\n'),
    );
  });

  it('lists campaigns, or says there are none', () => {
    expect(formatList({ campaigns: [] })).toBe('No campaigns.\n');
    expect(
      formatList({
        campaigns: [
          {
            campaign: 'hello-world',
            appliedAt: '2026-01-01T00:00:00.000Z',
            actor: 'alice',
            phase: 'complete',
            changesets: 12,
            open: 10,
            merged: 2,
          },
        ],
      }),
    ).toBe(
      [
        'CAMPAIGN     PHASE     CHANGESETS  OPEN  MERGED  APPLIED                   BY',
        'hello-world  complete  12          10    2       2026-01-01T00:00:00.000Z  alice',
        '',
      ].join('\n'),
    );
  });
});
