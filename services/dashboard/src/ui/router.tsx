// A few addresses, routed in the browser with the History API (no router library needed).
import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

export type Route =
  | { page: 'campaigns'; namespace: string | null }
  | { page: 'campaign'; campaign: string }
  | { page: 'changeset'; campaign: string; repository: string; branch: string }
  | { page: 'not-found' };

export function routeOf(location: { pathname: string; search: string }): Route {
  const parts = location.pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const q = new URLSearchParams(location.search);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'campaigns'))
    return { page: 'campaigns', namespace: q.get('namespace') };
  if (parts[0] !== 'campaigns') return { page: 'not-found' };
  // A campaign is /campaigns/NAMESPACE/NAME (or /campaigns/NAME: the caller's default namespace).
  const changeset = parts.at(-1) === 'changeset';
  const campaign = parts.slice(1, changeset ? -1 : undefined);
  if (campaign.length < 1 || campaign.length > 2) return { page: 'not-found' };
  if (!changeset) return { page: 'campaign', campaign: campaign.join('/') };
  const repository = q.get('repository');
  const branch = q.get('branch');
  if (repository && branch)
    return { page: 'changeset', campaign: campaign.join('/'), repository, branch };
  return { page: 'not-found' };
}

/** A campaign's page: `campaign` is NAMESPACE/NAME (or a bare name: the caller's default). */
export const campaignHref = (campaign: string) =>
  `/campaigns/${campaign.split('/').map(encodeURIComponent).join('/')}`;
export const changesetHref = (campaign: string, repository: string, branch: string) =>
  `${campaignHref(campaign)}/changeset?${new URLSearchParams({ repository, branch })}`;

export function navigate(href: string): void {
  window.history.pushState(null, '', href);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location));
  useEffect(() => {
    const onPop = () => setRoute(routeOf(window.location));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  return route;
}

/** A link that changes the page without reloading it (a modified click opens a tab as usual). */
export function Link(props: { href: string; children: ReactNode; testId?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} onClick={onClick} data-testid={props.testId}>
      {props.children}
    </a>
  );
}
