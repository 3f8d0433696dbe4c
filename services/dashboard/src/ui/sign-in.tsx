import { useState, type FormEvent } from 'react';
import { api, type Me } from './api.js';
import { Problem } from './widgets.js';

/**
 * The sign-in page: an access token pasted once (`campaign admin tokens create USER`, or the
 * token `campaign login` saved); the service keeps it in a cookie the page cannot read.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    api.signIn(token).then(
      (me) => onSignedIn(me),
      (error: Error) => {
        setProblem(error.message);
        setBusy(false);
      },
    );
  };
  return (
    <form className="sign-in" onSubmit={submit} data-testid="sign-in">
      <h1>Sign in</h1>
      <p className="muted">
        With your access token: <code>campaign admin tokens create YOUR-NAME</code> (a site admin
        runs it), or the one in <code>~/.config/campaign/config.json</code>.
      </p>
      <label>
        Access token{' '}
        <input
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          data-testid="sign-in-token"
          placeholder="cmp_…"
        />
      </label>{' '}
      <button type="submit" disabled={busy} data-testid="sign-in-submit">
        Sign in
      </button>
      {problem !== null && <Problem message={problem} />}
    </form>
  );
}
