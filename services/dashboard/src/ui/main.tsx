import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CampaignPage } from './campaign-page.js';
import { CampaignsPage } from './campaigns-page.js';
import { ChangesetPage } from './changeset-page.js';
import { Link, useRoute } from './router.js';
import './styles.css';

function App() {
  const route = useRoute();
  return (
    <>
      <header>
        <Link href="/">Campaigns</Link>
        {/* Sign-in goes here once spec-service verifies credentials (S2). */}
      </header>
      <main>
        {route.page === 'campaigns' && <CampaignsPage />}
        {route.page === 'campaign' && (
          <CampaignPage key={route.campaign} campaign={route.campaign} />
        )}
        {route.page === 'changeset' && <ChangesetPage {...route} />}
        {route.page === 'not-found' && <p>No such page.</p>}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
