import { lazy } from 'preact-iso';
import type { Screen } from '../screen.ts';

// The planning screens, in navigation order. A route's page lives under its
// list (/console/routes/{id}), a mission's under the missions screen
// (/console/missions/{id}). Missions need route.manage: no role that only
// reads routes may see one (a driver's route.read covers their own routes).
export const PLANNING_SCREENS: readonly Screen[] = [
  { path: '/console/board', label: "Today's board", group: 'Operations', permission: 'route.read', component: lazy(() => import('./board.tsx')) },
  { path: '/console/routes', label: 'Route planning', group: 'Operations', permission: 'route.read', component: lazy(() => import('./routes.tsx')) },
  { path: '/console/missions', label: 'Drone missions', group: 'Operations', permission: 'route.manage', component: lazy(() => import('./missions.tsx')) },
];
