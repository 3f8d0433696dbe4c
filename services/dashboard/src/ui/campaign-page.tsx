import { useEffect, useState } from 'react';
import {
  api,
  type AppliedSpec,
  type BulkOperationKind,
  type BulkResultsPage,
  type ChangesetState,
  type ChangesetStatus,
  type Filters,
} from './api.js';
import { BurndownChart } from './burndown-chart.js';
import { changesetHref, Link } from './router.js';
import { useLoad } from './use-load.js';
import { Diff, Phase, Problem, PullRequest, State, When } from './widgets.js';

const STATES: ChangesetState[] = [
  'unpublished',
  'pending',
  'scheduled',
  'open',
  'draft',
  'merged',
  'closed',
  'archived',
  'removed',
  'detached',
];
const CHECKS = ['passed', 'failed', 'pending'];
const REVIEWS = ['approved', 'changes-requested', 'pending'];
/** The table's drop-down filters. */
const FILTERS = [
  { field: 'state', label: 'State', options: STATES },
  { field: 'checks', label: 'Checks', options: CHECKS },
  { field: 'review', label: 'Review', options: REVIEWS },
] as const;
const OPERATIONS: BulkOperationKind[] = ['comment', 'merge', 'close', 'publish', 'retry'];

/** One campaign: its summary, burndown, changesets (filtered, with bulk actions) and spec. */
export function CampaignPage({ campaign }: { campaign: string }) {
  const [status] = useLoad(() => api.campaign(campaign), campaign);
  const [burndown] = useLoad(() => api.burndown(campaign), campaign);
  if (status.status === 'loading') return <p className="muted">Loading {campaign}…</p>;
  if (status.status === 'error') return <Problem message={status.message} />;
  const s = status.value;
  return (
    <section>
      <h1>
        {s.campaign} <Phase phase={s.phase} />
      </h1>
      <p className="muted">
        Applied <When at={s.appliedAt} /> by {s.actor}
        {s.closed && (
          <>
            {' '}
            · closed <When at={s.closed.at} /> by {s.closed.by}
          </>
        )}
      </p>
      <dl className="counts" data-testid="counts">
        {(
          [
            ['changesets', s.counts.changesets],
            ['published', s.counts.published],
            ['open', s.counts.open],
            ['merged', s.counts.merged],
            ['closed', s.counts.closed],
            ['errored', s.counts.errored],
            ['executions', `${s.counts.executed}/${s.counts.workspaces}`],
            ['failed', s.counts.failed],
          ] as const
        ).map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {s.problems.length > 0 && (
        <ul className="problems">
          {s.problems.map((p, i) => (
            <li key={i}>
              {p.entry}: {p.message}
            </li>
          ))}
        </ul>
      )}
      <h2>Burndown</h2>
      {burndown.status === 'ready' ? (
        <BurndownChart burndown={burndown.value} />
      ) : burndown.status === 'error' ? (
        <Problem message={burndown.message} />
      ) : (
        <p className="muted">Folding the log…</p>
      )}
      <Changesets campaign={campaign} />
      <SpecHistory campaign={campaign} />
    </section>
  );
}

function Changesets({ campaign }: { campaign: string }) {
  const [filters, setFilters] = useState<Filters>({});
  const [pages, setPages] = useState<{ rows: ChangesetStatus[]; next: string | null }>();
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [settings] = useLoad(() => api.settings(), '');
  const bulk = settings.status === 'ready' && settings.value.bulkActions;
  const key = JSON.stringify(filters);

  useEffect(() => {
    let current = true;
    setPages(undefined);
    setError(undefined);
    setSelected(new Set());
    api.changesets(campaign, filters, null).then(
      (page) => current && setPages({ rows: page.changesets, next: page.next }),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
    // `filters` is what `key` serialises.
  }, [campaign, key]);

  const more = async () => {
    if (!pages?.next) return;
    try {
      const page = await api.changesets(campaign, filters, pages.next);
      setPages({ rows: [...pages.rows, ...page.changesets], next: page.next });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const set = (field: keyof Filters) => (value: string | boolean) =>
    setFilters((f) => ({ ...f, [field]: value === '' ? undefined : value }));
  const rows = pages?.rows ?? [];
  const selectedRepositories = [
    ...new Set(rows.filter((r) => selected.has(rowKey(r))).map((r) => r.repository)),
  ];

  return (
    <>
      <h2>Changesets</h2>
      <div className="filters">
        {FILTERS.map(({ field, label, options }) => (
          <Select
            key={field}
            label={label}
            value={filters[field]}
            options={options}
            onChange={set(field)}
            testId={`filter-${field}`}
          />
        ))}
        <label>
          Repository{' '}
          <input
            placeholder="github.com/acme/*"
            defaultValue={filters.repository ?? ''}
            onKeyDown={(e) => e.key === 'Enter' && set('repository')(e.currentTarget.value.trim())}
            onBlur={(e) => set('repository')(e.currentTarget.value.trim())}
            data-testid="filter-repository"
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={filters.errored ?? false}
            onChange={(e) => set('errored')(e.currentTarget.checked)}
          />{' '}
          errored only
        </label>
      </div>
      {error !== undefined && <Problem message={error} />}
      {pages === undefined && error === undefined && <p className="muted">Loading changesets…</p>}
      {pages !== undefined && (
        <table data-testid="changesets">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="select all"
                  checked={rows.length > 0 && selected.size === rows.length}
                  onChange={(e) =>
                    setSelected(e.currentTarget.checked ? new Set(rows.map(rowKey)) : new Set())
                  }
                />
              </th>
              <th>Repository</th>
              <th>Title</th>
              <th>State</th>
              <th>Checks</th>
              <th>Review</th>
              <th>PR</th>
              <th className="num">Files</th>
              <th className="num">+/−</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={9} className="muted">
                  No changesets match.
                </td>
              </tr>
            )}
            {rows.map((c) => (
              <tr key={rowKey(c)} data-testid="changeset-row" data-repository={c.repository}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select ${c.repository}`}
                    checked={selected.has(rowKey(c))}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if (e.currentTarget.checked) next.add(rowKey(c));
                      else next.delete(rowKey(c));
                      setSelected(next);
                    }}
                  />
                </td>
                <td>
                  <Link
                    href={changesetHref(campaign, c.repository, c.headBranch)}
                    testId="changeset-link"
                  >
                    {c.repository}
                  </Link>
                  {c.path && <span className="muted"> {c.path}</span>}
                </td>
                <td>{c.title ?? <span className="muted">imported</span>}</td>
                <td>
                  <State changeset={c} />
                </td>
                <td>{c.checks?.toLowerCase() ?? '—'}</td>
                <td>{c.review?.toLowerCase().replace('_', ' ') ?? '—'}</td>
                <td>
                  <PullRequest changeset={c} />
                </td>
                <td className="num">{c.diffstat?.files ?? ''}</td>
                <td className="num">
                  {c.diffstat?.added !== undefined && (
                    <>
                      <span className="add">+{c.diffstat.added}</span>{' '}
                      <span className="del">−{c.diffstat.deleted}</span>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pages?.next && <button onClick={more}>More changesets</button>}
      {bulk ? (
        <BulkActions campaign={campaign} filters={filters} repositories={selectedRepositories} />
      ) : (
        <p className="muted" data-testid="bulk-off">
          Bulk actions are off on this dashboard (DASHBOARD_BULK_ACTIONS=on turns them on).
        </p>
      )}
    </>
  );
}

const rowKey = (c: ChangesetStatus) => `${c.repository}@${c.headBranch}`;

function Select(props: {
  label: string;
  value: string | undefined;
  options: readonly string[];
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <label>
      {props.label}{' '}
      <select
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        data-testid={props.testId}
      >
        <option value="">any</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * One operation on the selected changesets (or, with none selected, on every one the filters
 * match), then its results as the reconciler reports them.
 */
function BulkActions(props: { campaign: string; filters: Filters; repositories: string[] }) {
  const [operation, setOperation] = useState<BulkOperationKind>('comment');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [operations, setOperations] = useState<string[]>([]);
  // `errored` is the table's own view: a bulk operation matches by state, checks and review.
  const { state, checks, review, repository } = props.filters;
  const match = { state, checks, review, repository };
  const target =
    props.repositories.length > 0
      ? `${props.repositories.length} selected repositor${props.repositories.length === 1 ? 'y' : 'ies'}`
      : 'every changeset the filters match';

  const submit = async () => {
    const everything = `Run ${operation} on every changeset the filters match?`;
    if (props.repositories.length === 0 && !window.confirm(everything)) return;
    setBusy(true);
    setError(undefined);
    try {
      const started = await api.bulk(props.campaign, {
        operation,
        ...(operation === 'comment' ? { message } : {}),
        match,
        repositories: props.repositories,
      });
      setOperations(started.map((o) => o.operationId));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="bulk" data-testid="bulk">
      <h3>Bulk action on {target}</h3>
      <div className="filters">
        <select
          value={operation}
          onChange={(e) => setOperation(e.currentTarget.value as BulkOperationKind)}
          data-testid="bulk-operation"
        >
          {OPERATIONS.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        {operation === 'comment' && (
          <textarea
            value={message}
            onChange={(e) => setMessage(e.currentTarget.value)}
            placeholder="The comment to post on each pull request"
            rows={2}
            data-testid="bulk-message"
          />
        )}
        <button onClick={submit} disabled={busy} data-testid="bulk-submit">
          Run {operation}
        </button>
      </div>
      {error !== undefined && <Problem message={error} />}
      {operations.map((id) => (
        <BulkProgress key={id} operationId={id} />
      ))}
    </div>
  );
}

/** A bulk operation's results, asked again each second until every changeset has one. */
function BulkProgress({ operationId }: { operationId: string }) {
  const [page, setPage] = useState<BulkResultsPage>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current = true;
    const poll = async () => {
      try {
        const next = await api.bulkResults(operationId);
        if (!current) return;
        setPage(next);
        if (next.done + next.skipped + next.failed < next.changesets)
          timer = setTimeout(poll, 1000);
      } catch (e) {
        if (current) setError((e as Error).message);
      }
    };
    void poll();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [operationId]);
  if (error !== undefined) return <Problem message={error} />;
  if (page === undefined) return <p className="muted">Requested…</p>;
  const finished = page.done + page.skipped + page.failed >= page.changesets;
  return (
    <div className="bulk-result" data-testid="bulk-result" data-finished={finished}>
      <p>
        {page.operation} on {page.changesets} changeset{page.changesets === 1 ? '' : 's'}:{' '}
        <strong>{page.done} done</strong>, {page.skipped} skipped, {page.failed} failed
        {finished ? '' : ' — in progress…'}
      </p>
      <ul>
        {page.results.map((r) => (
          <li key={`${r.repository}@${r.headBranch}`} className={`result-${r.result}`}>
            {r.repository} #{r.number ?? '—'}: {r.result} — {r.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The spec as applied now, and each application before it with what it changed. */
function SpecHistory({ campaign }: { campaign: string }) {
  const [specs] = useLoad(() => api.specs(campaign), campaign);
  if (specs.status === 'loading') return <p className="muted">Loading the spec…</p>;
  if (specs.status === 'error') return <Problem message={specs.message} />;
  const [current, ...earlier] = specs.value;
  return (
    <>
      <h2>Spec</h2>
      {current && <SpecVersion spec={current} open />}
      {earlier.length > 0 && <h3>History</h3>}
      {earlier.map((s) => (
        <SpecVersion key={s.applyId} spec={s} />
      ))}
    </>
  );
}

function SpecVersion({ spec, open = false }: { spec: AppliedSpec; open?: boolean }) {
  return (
    <details className="spec" open={open} data-testid="spec-version">
      <summary>
        <When at={spec.at} /> by {spec.actor} from {spec.fileName}{' '}
        <code className="muted">{spec.specHash.slice(0, 12)}</code>
      </summary>
      {open && <pre className="spec-text">{spec.specText}</pre>}
      {/* The first application's diff is its whole text: shown once. */}
      {(!open || !spec.diff.startsWith('--- /dev/null')) && (
        <>
          {open && <h3>What this application changed</h3>}
          <Diff text={spec.diff} testId="spec-diff" />
        </>
      )}
    </details>
  );
}
