import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, SIGNED_OUT_EVENT, type Me } from './api.js';
import { CampaignPage } from './campaign-page.js';
import { CampaignsPage } from './campaigns-page.js';
import { ChangesetPage } from './changeset-page.js';
import { Link, useRoute } from './router.js';
import { SignIn } from './sign-in.js';
import './styles.css';

/** Who is signed in: unknown until the service says, null when nobody (or the token stopped working). */
type Session = { status: 'checking' } | { status: 'signed-out' } | { status: 'in'; me: Me };

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>({ status: 'checking' });
  useEffect(() => {
    api.me().then(
      (me) => setSession({ status: 'in', me }),
      () => setSession({ status: 'signed-out' }),
    );
    const signedOut = () => setSession({ status: 'signed-out' });
    window.addEventListener(SIGNED_OUT_EVENT, signedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, signedOut);
  }, []);
  const signOut = () => {
    void api.signOut().finally(() => setSession({ status: 'signed-out' }));
  };
  return (
    <>
      <header>
        <Link href="/">Campaigns</Link>
        {session.status === 'in' && (
          <span className="session" data-testid="session">
            {session.me.user}
            {session.me.siteAdmin ? ' (site admin)' : ''}
            <button type="button" onClick={signOut} data-testid="sign-out">
              Sign out
            </button>
          </span>
        )}
      </header>
      <main>
        {session.status === 'signed-out' && (
          <SignIn onSignedIn={(me) => setSession({ status: 'in', me })} />
        )}
        {session.status === 'in' && (
          <>
            {route.page === 'campaigns' && (
              <CampaignsPage me={session.me} namespace={route.namespace} />
            )}
            {route.page === 'campaign' && (
              <CampaignPage key={route.campaign} campaign={route.campaign} />
            )}
            {route.page === 'changeset' && <ChangesetPage {...route} />}
            {route.page === 'not-found' && <p>No such page.</p>}
          </>
        )}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
