import { useState } from 'react';
import { api, type ListResult, type Me } from './api.js';
import { campaignHref, Link, navigate } from './router.js';
import { useLoad } from './use-load.js';
import { Phase, Problem, When } from './widgets.js';

/** The namespace shown first: the site's (`default`) for a site admin, else the user's own. */
const firstNamespace = (me: Me) => (me.namespaces.includes('default') ? 'default' : me.user);

/** The campaigns of one namespace the user may act in, by name, a page at a time. */
export function CampaignsPage(props: { me: Me; namespace: string | null }) {
  const namespace = props.namespace ?? firstNamespace(props.me);
  return <NamespaceCampaigns key={namespace} me={props.me} namespace={namespace} />;
}

function NamespaceCampaigns({ me, namespace }: { me: Me; namespace: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const [earlier, setEarlier] = useState<ListResult['campaigns']>([]);
  const [page] = useLoad(() => api.campaigns(namespace, after), after ?? '');
  const namespaces = me.namespaces.includes(namespace)
    ? me.namespaces
    : [...me.namespaces, namespace];
  const chooser = (
    <label>
      Namespace{' '}
      <select
        value={namespace}
        onChange={(e) => navigate(`/?${new URLSearchParams({ namespace: e.target.value })}`)}
        data-testid="namespace"
      >
        {namespaces.map((ns) => (
          <option key={ns} value={ns}>
            {ns}
          </option>
        ))}
      </select>
    </label>
  );
  if (page.status === 'loading') return <p className="muted">Loading campaigns…</p>;
  if (page.status === 'error')
    return (
      <section>
        <h1>Campaigns</h1>
        {chooser}
        <Problem message={page.message} />
      </section>
    );
  const campaigns = [...earlier, ...page.value.campaigns];
  // The list names each campaign by its key: NAMESPACE/NAME, or a bare name in `default`.
  const refOf = (key: string) => (key.includes('/') ? key : `${namespace}/${key}`);
  return (
    <section>
      <h1>Campaigns</h1>
      {chooser}
      {campaigns.length === 0 ? (
        <p className="muted">
          No campaigns in {namespace} yet: apply one with `campaign apply -n {namespace} -f SPEC`.
        </p>
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
                  <Link href={campaignHref(refOf(c.campaign))} testId={`campaign-${c.campaign}`}>
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
