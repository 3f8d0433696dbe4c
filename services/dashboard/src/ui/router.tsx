// A few addresses, routed in the browser with the History API (no router library needed).
import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

export type Route =
  | { page: 'campaigns' }
  | { page: 'campaign'; campaign: string }
  | { page: 'changeset'; campaign: string; repository: string; branch: string }
  | { page: 'not-found' };

export function routeOf(location: { pathname: string; search: string }): Route {
  const parts = location.pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'campaigns'))
    return { page: 'campaigns' };
  if (parts[0] !== 'campaigns') return { page: 'not-found' };
  if (parts.length === 2) return { page: 'campaign', campaign: parts[1]! };
  const q = new URLSearchParams(location.search);
  const repository = q.get('repository');
  const branch = q.get('branch');
  if (parts.length === 3 && parts[2] === 'changeset' && repository && branch)
    return { page: 'changeset', campaign: parts[1]!, repository, branch };
  return { page: 'not-found' };
}

export const campaignHref = (campaign: string) => `/campaigns/${encodeURIComponent(campaign)}`;
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
