import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client, setCsrfToken } from '../api/client.ts';
import type { Screen } from './screen.ts';
import { useSession } from './session.ts';

// The frame around every screen: a skip link, the navigation this role may
// use (grouped), who is signed in, and sign-out.

const GROUPS = ['Operations', 'Administration', 'Audit', 'Account'] as const;

export function Shell(props: { readonly screens: readonly Screen[]; readonly children: ComponentChildren }) {
  const { session, update } = useSession();
  const { path, route } = useLocation();
  const [leaving, setLeaving] = useState(false);
  const signOut = async () => {
    setLeaving(true);
    try {
      await api(() => client.POST('/api/v1/auth/logout'), { quiet: true });
    } catch {
      // Signed out either way: the cookie is gone or the session had ended.
    }
    setCsrfToken(undefined);
    update(undefined);
    route('/console/sign-in');
  };
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <span class="brand">Rampart</span>
        <span class="who">
          {session?.account.username} <span class="role">{session?.account.role}</span>
        </span>
        <button type="button" class="button secondary" disabled={leaving} onClick={() => void signOut()}>Sign out</button>
      </header>
      <nav class="sidebar" aria-label="Console">
        {GROUPS.map((group) => {
          const items = props.screens.filter((screen) => screen.group === group);
          if (items.length === 0) return null;
          return (
            <div key={group} class="nav-group">
              <h2>{group}</h2>
              <ul>
                {items.map((screen) => (
                  <li key={screen.path}>
                    <a href={screen.path} aria-current={path === screen.path || path.startsWith(`${screen.path}/`) ? 'page' : undefined}>{screen.label}</a>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <main id="main" class="content" tabIndex={-1}>{props.children}</main>
    </div>
  );
}
