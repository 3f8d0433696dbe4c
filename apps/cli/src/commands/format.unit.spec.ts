import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { sampleStatus } from '../test-support/sample-status.js';
import {
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
        '3 workspaces: 3 executed, 1 failed; 2 changesets: 1 published, 1 errored',
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

  it('says when there are no changesets', () => {
    const out = formatStatus({ ...sampleStatus, changesets: [], executions: [], problems: [] });
    expect(out.endsWith('\nNo changesets.\n')).toBe(true);
  });
});

describe('formatProgress and lastLine', () => {
  it('puts the counts on one line', () => {
    expect(formatProgress(sampleStatus)).toBe(
      'hello-world: needs-attention — executed 3/3, failed 1, published 1/2, errored 1',
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
        'Campaign hello-world: 2 changesets',
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
