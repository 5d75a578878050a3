import type { ComponentType } from 'preact';
import { lazy } from 'preact-iso';
import type { Permission } from '../api/types.ts';
import { ADMIN_SCREENS } from './admin/index.ts';
import { AUDIT_SCREENS } from './audit/index.ts';
import { DISPATCHER_SCREENS } from './dispatcher/index.ts';
import { PLANNING_SCREENS } from './planning/index.ts';

// Every screen of the console: where it lives, what it is called in the
// navigation, and the permission it needs. The permission is the server's
// own (the session lists what the role grants), so the navigation leaves out
// exactly what the API would refuse; the API still checks every call.

export interface Screen {
  readonly path: string;
  readonly label: string;
  readonly group: 'Operations' | 'Administration' | 'Audit' | 'Account';
  readonly permission: Permission;
  readonly component: ComponentType;
}

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
