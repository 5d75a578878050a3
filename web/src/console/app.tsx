import { useEffect, useMemo, useState } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { installApiHooks, setCsrfToken } from '../api/client.ts';
import type { SessionState } from '../api/types.ts';
import { screensFor } from './screens.ts';
import { loadSession, Session } from './session.ts';
import { loadSettings, Settings, type ConsoleSettings } from './settings.ts';
import { Shell } from './shell.tsx';
import { EnrolPage, SecondFactor, SetupPage, SignInPage } from './signin.tsx';
import { StepUpDialog, useStepUp } from './step-up.tsx';

// The console: the session probe, then either the sign-in pages or the shell
// with the screens this role may use. A 401 from any call brings the person
// back to sign-in and, once signed in, to the page they were on.

const PUBLIC_PATHS = new Set(['/console/sign-in', '/console/setup', '/console/enrol']);

function Routes(props: { readonly session: SessionState | undefined; readonly update: (next: SessionState | undefined) => void }) {
  const { path, url, route } = useLocation();
  const { session } = props;
  const stepUp = useStepUp();

  useEffect(() => {
    installApiHooks({
      signedOut: () => {
        setCsrfToken(undefined);
        props.update(undefined);
        const here = window.location.pathname + window.location.search;
        route(`/console/sign-in${here.startsWith('/console/') && !PUBLIC_PATHS.has(window.location.pathname) ? `?next=${encodeURIComponent(here)}` : ''}`, true);
      },
      stepUp: stepUp.ask,
    });
  }, [route, stepUp.ask, props]);

  // preact-iso reports /console/ as /console.
  const atRoot = path === '/console' || path === '/console/';
  const signedIn = session?.stage === 'active';
  useEffect(() => {
    if (!signedIn && !PUBLIC_PATHS.has(path)) route(`/console/sign-in${atRoot ? '' : `?next=${encodeURIComponent(url)}`}`, true);
    if (session?.stage === 'enrol' && path !== '/console/enrol') route('/console/enrol', true);
  }, [signedIn, session?.stage, path, url, route, atRoot]);

  const screens = useMemo(() => screensFor(session?.permissions ?? []), [session?.permissions]);

  if (!signedIn) {
    return (
      <Router>
        <Route path="/console/setup" component={SetupPage} />
        <Route path="/console/enrol" component={EnrolPage} />
        <Route default component={session?.stage === 'mfa' ? SecondFactor : SignInPage} />
      </Router>
    );
  }
  const home = screens[0]?.path ?? '/console/account';
  return (
    <Shell screens={screens}>
      <Router>
        {screens.map((screen) => <Route key={screen.path} path={`${screen.path}/*`} component={screen.component} />)}
        {screens.map((screen) => <Route key={`${screen.path}-root`} path={screen.path} component={screen.component} />)}
        <Route path="/console/enrol" component={EnrolPage} />
        <Route default component={() => <Redirect to={atRoot || PUBLIC_PATHS.has(path) ? home : undefined} />} />
      </Router>
      {stepUp.open ? <StepUpDialog onDone={stepUp.done} onCancel={stepUp.cancel} /> : null}
    </Shell>
  );
}

function Redirect(props: { readonly to: string | undefined }) {
  const { route } = useLocation();
  useEffect(() => {
    if (props.to !== undefined) route(props.to, true);
  }, [props.to, route]);
  if (props.to !== undefined) return null;
  return (
    <section>
      <h1>Not here</h1>
      <p>This page does not exist, or your role does not use it. <a href="/console/">Go to the start page.</a></p>
    </section>
  );
}

export function App() {
  const [session, setSession] = useState<SessionState | undefined>(undefined);
  const [settings, setSettings] = useState<ConsoleSettings | undefined>(undefined);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    void Promise.all([loadSession(), loadSettings().catch(() => undefined)]).then(([state, loaded]) => {
      setSession(state);
      setSettings(loaded);
      setReady(true);
    });
  }, []);
  const context = useMemo(() => ({ session, update: setSession }), [session]);
  if (!ready) return <p class="loading" role="status">Loading…</p>;
  return (
    <Settings.Provider value={settings}>
      <Session.Provider value={context}>
        <LocationProvider>
          <ErrorBoundary>
            <Routes session={session} update={setSession} />
          </ErrorBoundary>
        </LocationProvider>
      </Session.Provider>
    </Settings.Provider>
  );
}
