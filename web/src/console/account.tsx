import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client, setCsrfToken } from '../api/client.ts';
import { Button, ErrorNote } from '../ui/form.tsx';
import { useSession } from './session.ts';

// The signed-in person's own account: who they are, their second factors, and
// signing out of every session at once (a lost laptop, a shared machine).

export default function AccountScreen() {
  const { session, update } = useSession();
  const { route } = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  if (session === undefined) return null;

  const signOutEverywhere = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api(() => client.POST('/api/v1/auth/logout-all'));
      setCsrfToken(undefined);
      update(undefined);
      route('/console/sign-in');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">My account</h1>
      <dl class="facts">
        <dt>Username</dt>
        <dd>{session.account.username}</dd>
        <dt>Role</dt>
        <dd>{session.account.role}</dd>
        <dt>Authenticator app</dt>
        <dd>{session.factors.totp ? 'enrolled' : 'not enrolled'}</dd>
        <dt>Passkeys</dt>
        <dd>{session.factors.passkeys}</dd>
        <dt>Unused recovery codes</dt>
        <dd>{session.factors.recoveryCodes}</dd>
        <dt>This session ends</dt>
        <dd><time dateTime={session.expiresAt}>{new Date(session.expiresAt).toLocaleString()}</time> (or after inactivity, <time dateTime={session.idleExpiresAt}>{new Date(session.idleExpiresAt).toLocaleTimeString()}</time>)</dd>
      </dl>
      <h2>Sessions</h2>
      <p>Signing out everywhere ends every session of this account, on every device, this one included.</p>
      <ErrorNote error={error} />
      <Button kind="danger" busy={busy} onClick={() => void signOutEverywhere()}>Sign out everywhere</Button>
    </section>
  );
}
