// The permission model, in one place. Deny by default: an action is allowed
// only when the actor's role grants it AND the object-level rule for the
// resource (ownership, depot scope) holds. `can` decides for one object,
// `scopeFor` turns the same rules into the filter a list applies. Routes
// declare the action they need (`config.access`); `test/e2e/permissions.test.ts`
// fails if any route does not.

import { RampartError } from '../kernel/errors.ts';

export const ROLES = ['admin', 'dispatcher', 'driver', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'account.self',
  'user.read',
  'user.manage',
  'user.role.assign',
  'user.mfa.reset',
  'session.manage',
  'service_principal.manage',
  'audit.read',
  'device.read',
  'device.manage',
  'device.key.reveal',
  'keys.rotate',
  'webhook.manage',
  'webhook.secret.issue',
  'telemetry.read',
  'hub.manage',
  'shipment.read',
  'shipment.manage',
  'shipment.recipient.read',
  'shipment.progress',
  'shipment.export',
  'depot.read',
  'depot.manage',
  'fleet.read',
  'fleet.manage',
  'route.read',
  'route.manage',
  'pod.create',
  'pod.read',
  'pod.export',
  'pod.shred',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that need a second factor proven within `identity.stepUpMinutes`. */
export const STEP_UP: ReadonlySet<Permission> = new Set<Permission>(['user.role.assign', 'user.mfa.reset', 'device.key.reveal', 'keys.rotate', 'pod.export', 'pod.shred', 'service_principal.manage', 'webhook.secret.issue', 'shipment.export', 'hub.manage']);

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['account.self', 'user.read', 'user.manage', 'user.role.assign', 'user.mfa.reset', 'session.manage', 'service_principal.manage', 'device.read', 'device.manage', 'device.key.reveal', 'keys.rotate', 'webhook.manage', 'webhook.secret.issue', 'telemetry.read', 'hub.manage', 'depot.read', 'depot.manage', 'fleet.read', 'fleet.manage', 'shipment.read', 'shipment.manage', 'shipment.recipient.read', 'shipment.progress', 'shipment.export', 'pod.read', 'pod.shred'],
  dispatcher: ['account.self', 'device.read', 'telemetry.read', 'shipment.read', 'shipment.manage', 'route.read', 'route.manage', 'pod.read', 'pod.export', 'depot.read', 'fleet.read', 'fleet.manage', 'shipment.recipient.read', 'shipment.progress', 'shipment.export'],
  driver: ['account.self', 'route.read', 'shipment.read', 'pod.create', 'shipment.recipient.read', 'shipment.progress'],
  auditor: ['account.self', 'audit.read', 'pod.read', 'pod.export', 'depot.read', 'fleet.read', 'shipment.read'],
};

/** What a service principal's scope grants. Scopes name permissions directly; only these are grantable. */
export const SERVICE_SCOPES = ['telemetry.read', 'device.read'] as const satisfies readonly Permission[];
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

export interface AccountActor {
  readonly kind: 'account';
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  /** Depots a dispatcher is limited to; null: all. */
  readonly depots: readonly string[] | null;
  readonly sessionId: string;
  readonly authMethod: string;
  /** When a second factor was last proven in this session (ISO), if ever. */
  readonly mfaAt: string | null;
}

export interface ServiceActor {
  readonly kind: 'service';
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly ServiceScope[];
  readonly tokenId: string;
}

export type Actor = AccountActor | ServiceActor;

/** The object an action touches, with the attributes object-level rules look at. */
export interface Resource {
  readonly type: string;
  readonly id?: string;
  /** The account the object belongs to (a driver's route, a user's own sessions). */
  readonly ownerId?: string;
  readonly depotId?: string;
}

export function grants(role: Role): readonly Permission[] {
  return GRANTS[role];
}

export function can(actor: Actor | undefined, action: Permission, resource?: Resource): boolean {
  if (actor === undefined) return false;
  if (actor.kind === 'service') return (actor.scopes as readonly Permission[]).includes(action);
  if (!GRANTS[actor.role].includes(action)) return false;
  if (resource === undefined) return true;
  // Object-level rules.
  if (actor.role === 'driver' && resource.ownerId !== actor.id) return false;
  if (actor.role === 'dispatcher' && actor.depots !== null && resource.depotId !== undefined && !actor.depots.includes(resource.depotId)) return false;
  return true;
}

/** Self-service on one's own account: always allowed for the owner, never for others (unless granted `user.read`). */
export function canSeeAccount(actor: Actor | undefined, accountId: string): boolean {
  if (actor?.kind !== 'account') return false;
  return actor.id === accountId || can(actor, 'user.read');
}

/**
 * Types that are listed, with the permission a list needs and whether their
 * objects belong to an account (then a driver lists their own, as `can` lets
 * them see their own); a driver lists nothing of the others.
 */
const LISTED = {
  device: { read: 'device.read', owned: false },
  depot: { read: 'depot.read', owned: false },
  vehicle: { read: 'fleet.read', owned: false },
  drone: { read: 'fleet.read', owned: false },
  driver: { read: 'fleet.read', owned: false },
  shipment: { read: 'shipment.read', owned: true },
  route: { read: 'route.read', owned: true },
} as const satisfies Record<string, { read: Permission; owned: boolean }>;
export type ListedType = keyof typeof LISTED;

/** What a list shows the actor: only these depots' objects, only the objects this account owns; `{}`: everything. */
export interface ListScope {
  readonly depots?: readonly string[];
  readonly ownerId?: string;
}

/** The list scope of `actor` for `type` (read with `action`, by default the type's read permission); `none`: the list is refused. */
export function scopeFor(actor: Actor | undefined, type: ListedType, action: Permission = LISTED[type].read): ListScope | 'none' {
  if (actor === undefined || !can(actor, action)) return 'none';
  if (actor.kind === 'service') return {};
  // The object-level rules of `can`, as filters.
  if (actor.role === 'driver') return LISTED[type].owned ? { ownerId: actor.id } : 'none';
  if (actor.role === 'dispatcher' && actor.depots !== null) return { depots: actor.depots };
  return {};
}

/** `scopeFor`, refusing (`access.denied`) when the actor may list none of it. */
export function listScope(actor: Actor | undefined, type: ListedType, action?: Permission): ListScope {
  const scope = scopeFor(actor, type, action);
  if (scope === 'none') throw new RampartError('access.denied', `${type} list refused`);
  return scope;
}
