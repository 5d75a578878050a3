import type { Ok } from '../../api/types.ts';
import { Badge, type Secret } from './common.tsx';

// What the device screens share: where they live, the shapes, kinds and
// statuses in words, and the secrets a device's page shows once.

export type Device = Ok<'/api/v1/devices', 'get'>['items'][number];
export type Kind = Device['kind'];
export type Status = Device['status'];

/** Secrets for <ShownOnce>, with the title and a note to go with them. */
export interface Shown {
  readonly title: string;
  readonly secrets: Secret[];
  readonly note: string;
}

export const DEVICES = '/console/devices';
export const KINDS: Record<Kind, string> = { drone: 'Drone', truck: 'Truck' };
export const STATUSES: Record<Status, string> = { enabled: 'Enabled', disabled: 'Disabled' };

export function isKind(value: string | undefined): value is Kind {
  return value !== undefined && value in KINDS;
}

export function isStatus(value: string | undefined): value is Status {
  return value !== undefined && value in STATUSES;
}

export function DeviceStatus(props: { readonly status: Status }) {
  return <Badge tone={props.status === 'enabled' ? 'ok' : 'bad'}>{STATUSES[props.status]}</Badge>;
}

/** A device's two keys, as <ShownOnce> lists them. */
export function bothKeys(keys: { readonly primaryKey: string; readonly secondaryKey: string }): Secret[] {
  return [
    { label: 'Primary key', value: keys.primaryKey },
    { label: 'Secondary key', value: keys.secondaryKey },
  ];
}
