import type { ComponentType } from 'preact';
import type { Permission } from '../api/types.ts';

/** One screen of the console: where it lives, its name and group in the navigation, and the permission it needs. */
export interface Screen {
  readonly path: string;
  readonly label: string;
  readonly group: 'Operations' | 'Administration' | 'Audit' | 'Account';
  readonly permission: Permission;
  readonly component: ComponentType;
}
