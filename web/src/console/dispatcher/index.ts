import { lazy } from 'preact-iso';
import type { Screen } from '../screen.ts';

// The dispatcher screens, in navigation order. A shipment's page lives under
// the list (/console/shipments/{id}); the import under /console/shipments/import.
export const DISPATCHER_SCREENS: readonly Screen[] = [
  { path: '/console/map', label: 'Live map', group: 'Operations', permission: 'device.read', component: lazy(() => import('./fleet-map.tsx')) },
  { path: '/console/shipments', label: 'Shipments', group: 'Operations', permission: 'shipment.read', component: lazy(() => import('./shipments.tsx')) },
];
