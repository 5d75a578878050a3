import { lazy } from 'preact-iso';
import type { Screen } from '../screen.ts';

// The administration screens, in navigation order. One account's page lives
// under the users list (/console/users/{id}), one device's under the devices
// list, one webhook endpoint's (with its delivery log) under the webhooks.
export const ADMIN_SCREENS: readonly Screen[] = [
  { path: '/console/users', label: 'Users', group: 'Administration', permission: 'user.read', component: lazy(() => import('./users.tsx')) },
  { path: '/console/devices', label: 'Devices', group: 'Administration', permission: 'device.read', component: lazy(() => import('./devices.tsx')) },
  { path: '/console/service-principals', label: 'Service principals', group: 'Administration', permission: 'service_principal.manage', component: lazy(() => import('./service-principals.tsx')) },
  { path: '/console/webhooks', label: 'Webhooks', group: 'Administration', permission: 'webhook.manage', component: lazy(() => import('./webhooks.tsx')) },
  { path: '/console/keys', label: 'Keys', group: 'Administration', permission: 'keys.rotate', component: lazy(() => import('./keys.tsx')) },
  { path: '/console/hubs', label: 'Event hubs', group: 'Administration', permission: 'telemetry.read', component: lazy(() => import('./hubs.tsx')) },
];
