import { useState } from 'react';
import { api, type ListResult } from './api.js';
import { campaignHref, Link } from './router.js';
import { useLoad } from './use-load.js';
import { Phase, Problem, When } from './widgets.js';

/** Every campaign, by name, a page at a time. */
export function CampaignsPage() {
  const [after, setAfter] = useState<string | null>(null);
  const [earlier, setEarlier] = useState<ListResult['campaigns']>([]);
  const [page] = useLoad(() => api.campaigns(after), after ?? '');
  if (page.status === 'loading') return <p className="muted">Loading campaigns…</p>;
  if (page.status === 'error') return <Problem message={page.message} />;
  const campaigns = [...earlier, ...page.value.campaigns];
  return (
    <section>
      <h1>Campaigns</h1>
      {campaigns.length === 0 ? (
        <p className="muted">No campaigns yet: apply one with `campaign apply -f SPEC`.</p>
      ) : (
        <table data-testid="campaigns">
          <thead>
            <tr>
              <th>Campaign</th>
              <th>Phase</th>
              <th className="num">Changesets</th>
              <th className="num">Open</th>
              <th className="num">Merged</th>
              <th>Applied</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.campaign}>
                <td>
                  <Link href={campaignHref(c.campaign)} testId={`campaign-${c.campaign}`}>
                    {c.campaign}
                  </Link>
                </td>
                <td>
                  <Phase phase={c.phase} />
                </td>
                <td className="num">{c.changesets}</td>
                <td className="num">{c.open}</td>
                <td className="num">{c.merged}</td>
                <td>
                  <When at={c.appliedAt} />
                </td>
                <td>{c.actor}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.value.next !== null && (
        <button
          onClick={() => {
            setEarlier(campaigns);
            setAfter(page.value.next);
          }}
        >
          More campaigns
        </button>
      )}
    </section>
  );
}
