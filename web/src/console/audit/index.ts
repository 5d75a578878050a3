import { lazy } from 'preact-iso';
import type { Screen } from '../screen.ts';

// The audit screens, in navigation order. The trail's own entries live under
// its path (/console/audit/{seq}); the other screens have paths of their own
// so the navigation marks one at a time.
export const AUDIT_SCREENS: readonly Screen[] = [
  { path: '/console/audit', label: 'Audit trail', group: 'Audit', permission: 'audit.read', component: lazy(() => import('./trail.tsx')) },
  { path: '/console/audit-verify', label: 'Verify chain', group: 'Audit', permission: 'audit.read', component: lazy(() => import('./verify.tsx')) },
  { path: '/console/audit-export', label: 'Export trail', group: 'Audit', permission: 'audit.read', component: lazy(() => import('./export.tsx')) },
  { path: '/console/receipts', label: 'Receipts', group: 'Audit', permission: 'pod.read', component: lazy(() => import('./receipts.tsx')) },
];
