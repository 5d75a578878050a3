import type { Screen } from '../screens.ts';

// The dispatcher screens, in navigation order.
export const DISPATCHER_SCREENS: readonly Screen[] = [];
