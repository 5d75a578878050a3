import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { api, client, setCsrfToken } from '../api/client.ts';
import type { Permission, Role, SessionState } from '../api/types.ts';

// The signed-in person as the server last described them. The server decides
// everything; the console only uses the role to leave out screens the person
// could not use anyway.

export interface SessionContext {
  readonly session: SessionState | undefined;
  /** After a sign-in step: the server's new description of the session. */
  readonly update: (next: SessionState | undefined) => void;
}

export const Session = createContext<SessionContext>({ session: undefined, update: () => undefined });

export function useSession(): SessionContext {
  return useContext(Session);
}

export function roleOf(session: SessionState | undefined): Role | undefined {
  const role = session?.account.role;
  return role === 'admin' || role === 'dispatcher' || role === 'driver' || role === 'auditor' ? role : undefined;
}

/** The current session, or undefined when there is none. */
export async function loadSession(): Promise<SessionState | undefined> {
  try {
    const state = await api(() => client.GET('/api/v1/auth/session'), { quiet: true });
    setCsrfToken(state.csrfToken);
    return state;
  } catch {
    setCsrfToken(undefined);
    return undefined;
  }
}

/** Whether the signed-in role holds `permission` (the server's own list): screens leave out what the API would refuse. */
export function usePermission(permission: Permission): boolean {
  return useSession().session?.permissions.includes(permission) ?? false;
}
