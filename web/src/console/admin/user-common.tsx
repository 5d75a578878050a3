import type { Ok, Role } from '../../api/types.ts';
import { Badge, type Option } from './common.tsx';

// What the account screens share: where they live, the shapes, and roles,
// statuses and depots in an administrator's words.

export type User = Ok<'/api/v1/users', 'get'>['items'][number];
/** A new account or a reset password: the account and its one-time setup code. */
export type Issued = Ok<'/api/v1/users', 'post'>;

export const USERS = '/console/users';

export const ROLE_LABELS: Record<Role, string> = { admin: 'Administrator', dispatcher: 'Dispatcher', driver: 'Driver', auditor: 'Auditor' };
export const ROLE_OPTIONS: Option[] = (Object.keys(ROLE_LABELS) as Role[]).map((role) => ({ value: role, label: ROLE_LABELS[role] }));
export const ROLE_HINTS: Record<Role, string> = {
  admin: 'Manages accounts, devices, keys and integrations. Does not read the audit trail.',
  dispatcher: 'Plans routes and works with shipments, within their depots.',
  driver: 'Sees and delivers their own routes in the driver app.',
  auditor: 'Reads the audit trail and receipts; changes nothing.',
};

export const STATUS: Record<User['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  active: { label: 'Active', tone: 'ok' },
  setup_required: { label: 'Awaiting setup', tone: 'warn' },
  disabled: { label: 'Disabled', tone: 'bad' },
};

export function isRole(value: string): value is Role {
  return value in ROLE_LABELS;
}

export function isStatus(value: string): value is User['status'] {
  return value in STATUS;
}

export function StatusBadge(props: { readonly status: User['status'] }) {
  const look = STATUS[props.status];
  return <Badge tone={look.tone}>{look.label}</Badge>;
}

export function depotsText(depots: readonly string[] | null): string {
  return depots === null ? 'All depots' : depots.length === 0 ? 'No depot' : depots.join(', ');
}
