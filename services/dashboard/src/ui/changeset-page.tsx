import { api } from './api.js';
import { campaignHref, Link } from './router.js';
import { useLoad } from './use-load.js';
import { Diff, Problem, PullRequest, State, When } from './widgets.js';

/** One changeset: where it stands, its diff and its audit timeline. */
export function ChangesetPage(props: { campaign: string; repository: string; branch: string }) {
  const { campaign, repository, branch } = props;
  const [detail] = useLoad(
    () => api.changeset(campaign, repository, branch),
    `${campaign}\0${repository}\0${branch}`,
  );
  if (detail.status === 'loading') return <p className="muted">Loading {repository}…</p>;
  if (detail.status === 'error') return <Problem message={detail.message} />;
  const { changeset: c, diff, timeline, timelineTruncated } = detail.value;
  return (
    <section>
      <p>
        <Link href={campaignHref(campaign)}>← {campaign}</Link>
      </p>
      <h1>
        {c.repository} <span className="muted">@{c.headBranch}</span>
      </h1>
      <p>
        <State changeset={c} /> {c.title} · PR <PullRequest changeset={c} />
        {c.baseBranch && <span className="muted"> into {c.baseBranch}</span>} · checks{' '}
        {c.checks?.toLowerCase() ?? '—'} · review {c.review?.toLowerCase() ?? '—'}
      </p>
      {c.lastError !== null && <Problem message={`Last reconcile failed: ${c.lastError}`} />}
      <h2>Diff</h2>
      {diff === null ? (
        <p className="muted">No diff (imported, or its steps have not run).</p>
      ) : (
        <>
          <Diff text={diff.text} testId="diff" />
          {diff.truncated && <p className="muted">The diff is cut short here.</p>}
        </>
      )}
      <h2>Timeline</h2>
      {timelineTruncated && <p className="muted">Only the newest events are shown.</p>}
      <table data-testid="timeline">
        <thead>
          <tr>
            <th>Time</th>
            <th>Apply</th>
            <th>Actor</th>
            <th>Event</th>
          </tr>
        </thead>
        <tbody>
          {timeline.map((e, i) => (
            <tr key={i} data-type={e.type}>
              <td>
                <When at={e.at} />
              </td>
              <td>
                <code>{e.correlation}</code>
              </td>
              <td>{e.actor}</td>
              <td>{e.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
