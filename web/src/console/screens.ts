import { lazy } from 'preact-iso';
import { ADMIN_SCREENS } from './admin/index.ts';
import { AUDIT_SCREENS } from './audit/index.ts';
import { DISPATCHER_SCREENS } from './dispatcher/index.ts';
import { PLANNING_SCREENS } from './planning/index.ts';
import type { Screen } from './screen.ts';

// Every screen of the console: where it lives, what it is called in the
// navigation, and the permission it needs. The permission is the server's
// own (the session lists what the role grants), so the navigation leaves out
// exactly what the API would refuse; the API still checks every call.

export const SCREENS: readonly Screen[] = [
  ...DISPATCHER_SCREENS,
  ...PLANNING_SCREENS,
  ...ADMIN_SCREENS,
  ...AUDIT_SCREENS,
  { path: '/console/account', label: 'My account', group: 'Account', permission: 'account.self', component: lazy(() => import('./account.tsx')) },
];

export function screensFor(permissions: readonly string[]): readonly Screen[] {
  return SCREENS.filter((screen) => permissions.includes(screen.permission));
}
