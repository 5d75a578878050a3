import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, ApiError, client, setCsrfToken } from '../api/client.ts';
import type { SessionState } from '../api/types.ts';
import { Button, ErrorNote, Field } from '../ui/form.tsx';
import { QrCode } from '../ui/qr.tsx';
import { PasswordStrength } from './password-strength.tsx';
import { useSession } from './session.ts';
import { useSettings } from './settings.ts';

// Sign-in, first use (setup code → password → second factor → recovery codes)
// and the second-factor step. Each step sends one request and moves on with
// the session state the server answers; nothing is kept in storage.

const HOME = '/console/';

/** Where to go after signing in: a console path given in ?next=, else home. */
export function nextPath(query: Record<string, string | undefined>): string {
  const next = query['next'];
  return next !== undefined && next.startsWith('/console/') && !next.startsWith('//') ? next : HOME;
}

function useAdvance() {
  const { route, query } = useLocation();
  const { update } = useSession();
  return (state: SessionState) => {
    setCsrfToken(state.csrfToken);
    update(state);
    const next = nextPath(query);
    if (state.stage === 'enrol') route(`/console/enrol${next === HOME ? '' : `?next=${encodeURIComponent(next)}`}`);
    else if (state.stage === 'active') route(next);
  };
}

function signInMessage(error: unknown): unknown {
  // The server answers every password failure alike, so the page cannot (and does not) say which part was wrong.
  if (error instanceof ApiError && error.code === 'auth.failed') {
    return new ApiError(401, { title: 'Sign-in failed', detail: 'The username or password is wrong, or sign-in is paused after repeated failures. Wait a little before trying again.' }, error.retryAfter);
  }
  return error;
}

export function SignInPage() {
  const { session } = useSession();
  const settings = useSettings();
  const advance = useAdvance();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  if (session?.stage === 'mfa') return <SecondFactor />;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      advance(await api(() => client.POST('/api/v1/auth/login', { body: { username, password } }), { quiet: true }));
    } catch (failure) {
      setError(signInMessage(failure));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" id="main">
      <h1>Sign in to Rampart</h1>
      <form onSubmit={(event) => void submit(event)} class="card" aria-label="Sign in">
        <Field label="Username" value={username} onInput={setUsername} autoComplete="username" required autoFocus />
        <Field label="Password" value={password} onInput={setPassword} type="password" autoComplete="current-password" required />
        <ErrorNote error={error} />
        <Button type="submit" busy={busy}>Sign in</Button>
      </form>
      {settings?.sso === true ? (
        <p>
          <a class="button secondary" href="/api/v1/auth/sso/start">Sign in with your organisation</a>
        </p>
      ) : null}
      <p>
        First time here? <a href="/console/setup">Set up your account with a setup code</a>
      </p>
    </main>
  );
}

type FactorChoice = 'totp' | 'passkey' | 'recovery';

export function SecondFactor(props: { readonly title?: string; readonly onDone?: (state: SessionState) => void; readonly onCancel?: () => void }) {
  const { session } = useSession();
  const advance = useAdvance();
  const done = props.onDone ?? advance;
  const factors = session?.factors;
  const [choice, setChoice] = useState<FactorChoice>(factors !== undefined && !factors.totp && factors.passkeys > 0 ? 'passkey' : 'totp');
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const run = async (step: () => Promise<SessionState>) => {
    setBusy(true);
    setError(undefined);
    try {
      const state = await step();
      setCsrfToken(state.csrfToken);
      done(state);
    } catch (failure) {
      setError(failure);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  const submitCode = (event: Event) => {
    event.preventDefault();
    void run(() => (choice === 'recovery' ? api(() => client.POST('/api/v1/auth/mfa/recovery', { body: { code: code.trim() } }), { quiet: true }) : api(() => client.POST('/api/v1/auth/mfa/totp', { body: { code: code.replaceAll(/\s/g, '') } }), { quiet: true })));
  };

  const usePasskey = () =>
    void run(async () => {
      const options = await api(() => client.POST('/api/v1/auth/passkey/authenticate/options'), { quiet: true });
      const assertion = await startAuthentication({ optionsJSON: options as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
      return api(() => client.POST('/api/v1/auth/passkey/authenticate', { body: assertion as never }), { quiet: true });
    });

  const Frame = props.onDone === undefined ? 'main' : 'div';
  return (
    <Frame class="auth-page" id={props.onDone === undefined ? 'main' : undefined}>
      <h1>{props.title ?? 'Confirm it is you'}</h1>
      <div class="card">
        <div class="tabs" role="group" aria-label="Second factor">
          <button type="button" aria-pressed={choice === 'totp'} onClick={() => setChoice('totp')}>Authenticator app</button>
          <button type="button" aria-pressed={choice === 'passkey'} onClick={() => setChoice('passkey')}>Passkey</button>
          <button type="button" aria-pressed={choice === 'recovery'} onClick={() => setChoice('recovery')}>Recovery code</button>
        </div>
        {choice === 'passkey' ? (
          <div>
            <p>Use the passkey on this device or your security key.</p>
            <ErrorNote error={error} />
            <Button busy={busy} onClick={usePasskey}>Use a passkey</Button>
          </div>
        ) : (
          <form onSubmit={submitCode} aria-label={choice === 'totp' ? 'Authenticator code' : 'Recovery code'}>
            <Field
              label={choice === 'totp' ? 'Six-digit code from your authenticator app' : 'One of your recovery codes'}
              value={code}
              onInput={setCode}
              autoComplete="one-time-code"
              inputMode={choice === 'totp' ? 'numeric' : 'text'}
              required
              autoFocus
            />
            <ErrorNote error={error} />
            <Button type="submit" busy={busy}>Continue</Button>
          </form>
        )}
        {props.onCancel === undefined ? null : (
          <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
        )}
      </div>
    </Frame>
  );
}

export function SetupPage() {
  const advance = useAdvance();
  const [username, setUsername] = useState('');
  const [setupCode, setSetupCode] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const mismatch = repeat !== '' && repeat !== password ? 'The two passwords differ.' : undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (password !== repeat) return;
    setBusy(true);
    setError(undefined);
    try {
      advance(await api(() => client.POST('/api/v1/auth/setup', { body: { username, setupCode: setupCode.trim(), password } }), { quiet: true }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth-page" id="main">
      <h1>Set up your account</h1>
      <form class="card" onSubmit={(event) => void submit(event)} aria-label="Set up your account">
        <p>Your administrator gave you a username and a one-time setup code.</p>
        <Field label="Username" value={username} onInput={setUsername} autoComplete="username" required autoFocus />
        <Field label="Setup code" value={setupCode} onInput={setSetupCode} autoComplete="off" required />
        <Field label="Choose a password" value={password} onInput={setPassword} type="password" autoComplete="new-password" required hint="8 to 128 characters; a few unrelated words make a strong one. Common and breached passwords are refused." />
        <PasswordStrength password={password} username={username} />
        <Field label="Repeat the password" value={repeat} onInput={setRepeat} type="password" autoComplete="new-password" required problem={mismatch} />
        <ErrorNote error={error} />
        <Button type="submit" busy={busy} disabled={mismatch !== undefined}>Set password</Button>
      </form>
    </main>
  );
}

interface TotpStart {
  readonly secret: string;
  readonly uri: string;
}

export function EnrolPage() {
  const { route, query } = useLocation();
  const { update } = useSession();
  const [method, setMethod] = useState<'totp' | 'passkey'>('totp');
  const [totp, setTotp] = useState<TotpStart | undefined>(undefined);
  const [code, setCode] = useState('');
  const [passkeyName, setPasskeyName] = useState('This device');
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (method !== 'totp' || totp !== undefined) return;
    api(() => client.POST('/api/v1/auth/enrol/totp'), { quiet: true }).then(setTotp, setError);
  }, [method, totp]);

  // The new session state takes effect only after the codes were shown: it switches the page to the console.
  const [signedIn, setSignedIn] = useState<SessionState | undefined>(undefined);
  const enter = (state: SessionState) => {
    update(state);
    route(nextPath(query));
  };
  const finish = (state: SessionState & { recoveryCodes?: string[] }) => {
    setCsrfToken(state.csrfToken);
    if (state.recoveryCodes === undefined) {
      enter(state);
      return;
    }
    setSignedIn(state);
    setCodes(state.recoveryCodes);
  };

  const run = async (step: () => Promise<SessionState & { recoveryCodes?: string[] }>) => {
    setBusy(true);
    setError(undefined);
    try {
      finish(await step());
    } catch (failure) {
      setError(failure);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  if (codes !== undefined && signedIn !== undefined) return <RecoveryCodes codes={codes} onDone={() => enter(signedIn)} />;

  return (
    <main class="auth-page" id="main">
      <h1>Add a second factor</h1>
      <div class="card">
        <p>Every account signs in with a second factor. Choose one; you can add the other later.</p>
        <div class="tabs" role="group" aria-label="Second factor to add">
          <button type="button" aria-pressed={method === 'totp'} onClick={() => setMethod('totp')}>Authenticator app</button>
          <button type="button" aria-pressed={method === 'passkey'} onClick={() => setMethod('passkey')}>Passkey</button>
        </div>
        {method === 'totp' ? (
          <form
            aria-label="Authenticator app"
            onSubmit={(event) => {
              event.preventDefault();
              void run(() => api(() => client.POST('/api/v1/auth/enrol/totp/confirm', { body: { code: code.replaceAll(/\s/g, '') } }), { quiet: true }));
            }}
          >
            {totp === undefined ? <p>Preparing…</p> : (
              <>
                <p>Scan this code with your authenticator app, or type the key by hand.</p>
                <QrCode text={totp.uri} label="QR code for your authenticator app" />
                <p>
                  Key: <code class="secret" data-testid="totp-secret">{totp.secret.replaceAll(/(.{4})/g, '$1 ').trim()}</code>
                </p>
              </>
            )}
            <Field label="The six-digit code it shows now" value={code} onInput={setCode} autoComplete="one-time-code" inputMode="numeric" required />
            <ErrorNote error={error} />
            <Button type="submit" busy={busy} disabled={totp === undefined}>Confirm</Button>
          </form>
        ) : (
          <form
            aria-label="Passkey"
            onSubmit={(event) => {
              event.preventDefault();
              void run(async () => {
                const options = await api(() => client.POST('/api/v1/auth/passkey/register/options'), { quiet: true });
                const response = await startRegistration({ optionsJSON: options as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'] });
                return api(() => client.POST('/api/v1/auth/passkey/register', { body: { name: passkeyName, response: response as never } }), { quiet: true });
              });
            }}
          >
            <Field label="Name for this passkey" value={passkeyName} onInput={setPasskeyName} required />
            <ErrorNote error={error} />
            <Button type="submit" busy={busy}>Create a passkey</Button>
          </form>
        )}
      </div>
    </main>
  );
}

/** Shown once: the server keeps only their hashes. */
export function RecoveryCodes(props: { readonly codes: readonly string[]; readonly onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const [href, setHref] = useState<string | undefined>(undefined);
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([`Rampart recovery codes\nEach works once.\n\n${props.codes.join('\n')}\n`], { type: 'text/plain' }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [props.codes]);
  return (
    <main class="auth-page" id="main">
      <h1>Save your recovery codes</h1>
      <div class="card">
        <p>If you lose your second factor, each of these codes signs you in once. They are shown only now.</p>
        <ol class="recovery-codes" aria-label="Recovery codes">
          {props.codes.map((code) => <li key={code}><code>{code}</code></li>)}
        </ol>
        <p class="actions">
          {href === undefined ? null : <a class="button secondary" href={href} download="rampart-recovery-codes.txt">Download</a>}
          <Button kind="secondary" onClick={() => window.print()}>Print</Button>
        </p>
        <label class="check">
          <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.currentTarget.checked)} /> I have saved these codes
        </label>
        <Button disabled={!saved} onClick={props.onDone}>Continue</Button>
      </div>
    </main>
  );
}
