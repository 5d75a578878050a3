import type { Ok } from '../../api/types.ts';
import { BackLink } from '../admin/common.tsx';

// What the shipment screens share: the shapes, where each screen lives, the
// list's filters as the query string carries them (status repeats, as in the
// API), and statuses, modes and windows in a dispatcher's words.

export type ShipmentSummary = Ok<'/api/v1/shipments', 'get'>['items'][number];
export type ShipmentDetail = Ok<'/api/v1/shipments/{id}', 'get'>;
export type ShipmentStatus = ShipmentSummary['status'];
export type DeliveryMode = ShipmentSummary['mode'];
export type FailureReason = NonNullable<ShipmentSummary['failureReason']>;
export type ShipmentSort = 'createdAt' | 'windowStart' | 'trackingNumber';

export const SHIPMENTS_PATH = '/console/shipments';
export const IMPORT_PATH = `${SHIPMENTS_PATH}/import`;
export const NEW_PATH = `${SHIPMENTS_PATH}/new`;

export function shipmentHref(id: string): string {
  return `${SHIPMENTS_PATH}/${encodeURIComponent(id)}`;
}

export const STATUSES: readonly ShipmentStatus[] = ['created', 'assigned', 'out_for_delivery', 'delivered', 'failed', 'returned'];
export const MODES: readonly DeliveryMode[] = ['truck', 'drone'];
export const SORTS: Readonly<Record<ShipmentSort, string>> = { createdAt: 'Newest first', windowStart: 'Window start', trackingNumber: 'Tracking number' };

export const STATUS: Readonly<Record<ShipmentStatus, { label: string; tone: string }>> = {
  created: { label: 'Created', tone: '' },
  assigned: { label: 'Assigned', tone: '' },
  out_for_delivery: { label: 'Out for delivery', tone: 'warn' },
  delivered: { label: 'Delivered', tone: 'ok' },
  failed: { label: 'Failed', tone: 'bad' },
  returned: { label: 'Returned', tone: 'bad' },
};

export const MODE: Readonly<Record<DeliveryMode, string>> = { truck: 'Truck', drone: 'Drone' };

export const REASON: Readonly<Record<FailureReason, string>> = {
  recipient_absent: 'Recipient absent',
  address_not_found: 'Address not found',
  refused: 'Refused',
  damaged: 'Damaged',
  access_denied: 'Access denied',
  weather: 'Weather',
  other: 'Other',
};

export function StatusBadge(props: { readonly status: ShipmentStatus }) {
  const look = STATUS[props.status];
  return <span class={`badge ${look.tone}`}>{look.label}</span>;
}

function isStatus(value: string): value is ShipmentStatus {
  return (STATUSES as readonly string[]).includes(value);
}

function isMode(value: string): value is DeliveryMode {
  return (MODES as readonly string[]).includes(value);
}

function isSort(value: string): value is ShipmentSort {
  return value in SORTS;
}

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** The list's view: every filter a link can carry. Days are UTC, as the API counts service dates. */
export interface ShipmentFilters {
  readonly q: string;
  readonly status: readonly ShipmentStatus[];
  readonly depot: string;
  readonly mode: DeliveryMode | '';
  readonly from: string;
  readonly to: string;
  readonly sort: ShipmentSort;
}

export const NO_FILTERS: ShipmentFilters = { q: '', status: [], depot: '', mode: '', from: '', to: '', sort: 'createdAt' };

/** The filters in a query string; anything unreadable is left out rather than sent. */
export function filtersFrom(search: string): ShipmentFilters {
  const params = new URLSearchParams(search);
  const mode = params.get('mode') ?? '';
  const sort = params.get('sort') ?? '';
  const day = (name: string) => {
    const value = params.get(name) ?? '';
    return DAY.test(value) ? value : '';
  };
  return {
    q: (params.get('q') ?? '').trim(),
    status: STATUSES.filter((s) => params.getAll('status').filter(isStatus).includes(s)),
    depot: params.get('depot') ?? '',
    mode: isMode(mode) ? mode : '',
    from: day('from'),
    to: day('to'),
    sort: isSort(sort) ? sort : 'createdAt',
  };
}

/** The list's address for these filters, in a fixed order so equal views give equal links. */
export function listHref(filters: ShipmentFilters): string {
  const params = new URLSearchParams();
  if (filters.q !== '') params.set('q', filters.q);
  for (const status of filters.status) params.append('status', status);
  if (filters.depot !== '') params.set('depot', filters.depot);
  if (filters.mode !== '') params.set('mode', filters.mode);
  if (filters.from !== '') params.set('from', filters.from);
  if (filters.to !== '') params.set('to', filters.to);
  if (filters.sort !== 'createdAt') params.set('sort', filters.sort);
  const text = params.toString();
  return text === '' ? SHIPMENTS_PATH : `${SHIPMENTS_PATH}?${text}`;
}

function nextDay(day: string): string {
  const at = new Date(`${day}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString();
}

/** The API's query for these filters: windows starting from the first day to the end of the last. */
export function apiQuery(filters: ShipmentFilters) {
  return {
    ...(filters.q === '' ? {} : { q: filters.q }),
    ...(filters.status.length === 0 ? {} : { status: [...filters.status] }),
    ...(filters.depot === '' ? {} : { depot: filters.depot }),
    ...(filters.mode === '' ? {} : { mode: filters.mode }),
    ...(filters.from === '' ? {} : { windowFrom: `${filters.from}T00:00:00.000Z` }),
    ...(filters.to === '' ? {} : { windowTo: nextDay(filters.to) }),
    sort: filters.sort,
  };
}

const dayFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
const clockFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** A delivery window as "1 Jul 2026, 08:00–10:00 UTC" (both ends on one day) or with both dates. */
export function Window(props: { readonly window: { readonly start: string; readonly end: string } }) {
  const start = new Date(props.window.start);
  const end = new Date(props.window.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return <span>{props.window.start} – {props.window.end}</span>;
  const sameDay = dayFormat.format(start) === dayFormat.format(end);
  return (
    <span class="shipments-window">
      <time dateTime={props.window.start}>{dayFormat.format(start)}, {clockFormat.format(start)}</time>–<time dateTime={props.window.end}>{sameDay ? '' : `${dayFormat.format(end)}, `}{clockFormat.format(end)}</time> UTC
    </span>
  );
}

/** A tracking link as the person hands it on: the app plane's address and the path the API returned. */
export function trackingUrl(trackingPath: string): string {
  return new URL(trackingPath, window.location.origin).toString();
}

/** What a shipment form shows a role that does not create shipments (the server would refuse it). */
export function NoShipmentCreation(props: { readonly titleId: string; readonly title: string }) {
  return (
    <section aria-labelledby={props.titleId}>
      <BackLink href={SHIPMENTS_PATH}>Shipments</BackLink>
      <h1 id={props.titleId}>{props.title}</h1>
      <p>Your role does not create shipments.</p>
    </section>
  );
}
