import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { readAll } from '../../ui/pages.tsx';
import { usePermission } from '../session.ts';

// What the planning screens share: the route and stop shapes, times and
// distances as a dispatcher reads them, the depot picker, and how a stop
// stands against its window.

export type RouteDetail = Ok<'/api/v1/routes/{id}', 'get'>;
export type RouteSummary = Ok<'/api/v1/routes', 'get'>['items'][number];
export type Stop = RouteDetail['stops'][number];
export type Depot = Ok<'/api/v1/depots', 'get'>['items'][number];
export type Driver = Ok<'/api/v1/drivers', 'get'>['items'][number];

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Service dates are UTC days, as the API counts them. */
export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** A date from the query string when it is one, else today. */
export function dateOr(value: string | undefined): string {
  return value !== undefined && DATE.test(value) ? value : todayUtc();
}

export { plural, Time } from '../../ui/format.tsx';
export { usePermission } from '../session.ts';

export function formatDistance(metres: number): string {
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`;
}

export function formatDuration(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}


export const ROUTE_STATUS: Record<RouteSummary['status'], { label: string; tone: string }> = {
  planned: { label: 'Planned', tone: '' },
  in_progress: { label: 'On the road', tone: 'warn' },
  completed: { label: 'Completed', tone: 'ok' },
  cancelled: { label: 'Cancelled', tone: 'bad' },
};

export function RouteStatusBadge(props: { readonly status: RouteSummary['status'] }) {
  const look = ROUTE_STATUS[props.status];
  return <span class={`badge ${look.tone}`}>{look.label}</span>;
}

/** How a stop stands against its window, as the board marks it. */
export type StopStanding = 'on_time' | 'late' | 'not_visited' | 'failed' | 'upcoming';

export const STANDING: Record<StopStanding, { label: string; tone: string }> = {
  on_time: { label: 'On time', tone: 'ok' },
  late: { label: 'Late', tone: 'warn' },
  not_visited: { label: 'Not visited', tone: 'bad' },
  failed: { label: 'Failed', tone: 'bad' },
  upcoming: { label: 'Upcoming', tone: '' },
};

/**
 * A visited stop is on time when the driver arrived before its window
 * closed; a stop still pending is late once its planned arrival has passed
 * (or when the plan itself arrives after the window), and not visited once
 * its window has closed or its route ended without it.
 */
export function standingOf(stop: Pick<Stop, 'status' | 'arrivedAt' | 'window' | 'eta' | 'latenessSeconds'>, routeStatus: RouteSummary['status'], now: number): StopStanding {
  const windowEnd = Date.parse(stop.window.end);
  switch (stop.status) {
    case 'failed':
      return 'failed';
    case 'arrived':
    case 'delivered':
      if (stop.arrivedAt === null) return 'on_time';
      return Date.parse(stop.arrivedAt) <= windowEnd ? 'on_time' : 'late';
    case 'removed':
      return 'not_visited';
    case 'pending':
      if (routeStatus === 'completed' || routeStatus === 'cancelled' || now > windowEnd) return 'not_visited';
      if (stop.latenessSeconds > 0 || now > Date.parse(stop.eta)) return 'late';
      return 'upcoming';
  }
}

export function StandingBadge(props: { readonly standing: StopStanding }) {
  const look = STANDING[props.standing];
  return <span class={`badge ${look.tone}`}>{look.label}</span>;
}

export const STOP_STATUS: Record<Stop['status'], string> = {
  pending: 'Pending',
  arrived: 'Arrived',
  delivered: 'Delivered',
  failed: 'Failed',
  removed: 'Removed',
};

/** Every depot the caller may see (the API pages by 100); `allowed` is false for a role that reads no depots (a driver sees only their own routes anyway). */
export function useDepots(): { depots: readonly Depot[] | undefined; error: unknown; allowed: boolean } {
  const allowed = usePermission('depot.read');
  const [depots, setDepots] = useState<readonly Depot[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    if (!allowed) {
      setDepots([]);
      return undefined;
    }
    const state = { live: true };
    void (async () => {
      try {
        const { items: all } = await readAll((cursor) => api(() => client.GET('/api/v1/depots', { params: { query: { limit: 100, ...(cursor === undefined ? {} : { cursor }) } } })), 1000);
        if (state.live) setDepots(all);
      } catch (failure) {
        if (state.live) {
          setDepots([]);
          setError(failure);
        }
      }
    })();
    return () => {
      state.live = false;
    };
  }, [allowed]);
  return { depots, error, allowed };
}

/** The depot's drivers by account id, for names beside routes (ids alone when the list is refused). */
export function useDriverNames(depot: string | undefined): ReadonlyMap<string, string> {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const allowed = usePermission('fleet.read');
  useEffect(() => {
    if (!allowed) return undefined;
    const state = { live: true };
    void (async () => {
      const found = new Map<string, string>();
      try {
        const { items: drivers } = await readAll((cursor) => api(() => client.GET('/api/v1/drivers', { params: { query: { limit: 100, ...(depot === undefined ? {} : { depot }), ...(cursor === undefined ? {} : { cursor }) } } })), 1000);
        for (const driver of drivers) found.set(driver.accountId, driver.username);
      } catch {
        // Names are a convenience: the ids still show.
      }
      if (state.live) setNames(found);
    })();
    return () => {
      state.live = false;
    };
  }, [depot, allowed]);
  return names;
}

export function Select(props: {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly children: ComponentChildren;
  readonly name?: string;
  readonly disabled?: boolean;
  readonly hint?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} disabled={props.disabled} aria-describedby={props.hint === undefined ? undefined : `${id}-hint`} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.children}
      </select>
      {props.hint === undefined ? null : <p class="hint" id={`${id}-hint`}>{props.hint}</p>}
    </div>
  );
}

export function DepotSelect(props: { readonly depots: readonly Depot[] | undefined; readonly value: string; readonly onChange: (value: string) => void; readonly allowAll?: boolean }) {
  return (
    <Select label="Depot" name="depot" value={props.value} onChange={props.onChange} disabled={props.depots === undefined}>
      {props.depots === undefined ? <option value={props.value}>Loading depots…</option> : null}
      {props.allowAll === true ? <option value="">All depots</option> : props.value === '' ? <option value="">Choose a depot</option> : null}
      {(props.depots ?? []).map((depot) => (
        <option key={depot.id} value={depot.id}>
          {depot.name} ({depot.id})
        </option>
      ))}
    </Select>
  );
}

/** A checkbox with its label, for options such as the straight-line fallback. */
export function Check(props: { readonly label: string; readonly checked: boolean; readonly onChange: (checked: boolean) => void; readonly hint?: string }) {
  const id = useId();
  return (
    <div class="planning-check">
      <input id={id} type="checkbox" checked={props.checked} aria-describedby={props.hint === undefined ? undefined : `${id}-hint`} onChange={(event) => props.onChange(event.currentTarget.checked)} />
      <label for={id}>{props.label}</label>
      {props.hint === undefined ? null : <p class="hint" id={`${id}-hint`}>{props.hint}</p>}
    </div>
  );
}

/** Said when a plan used straight-line distances because the road router failed. */
export function FallbackNote(props: { readonly reason: string | undefined }) {
  if (props.reason === undefined) return null;
  return <p class="notice">The road router failed ({props.reason}); this plan uses straight-line distances.</p>;
}

/** The query string without empty values, in a fixed order. */
export function hrefWith(path: string, params: Readonly<Record<string, string | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** True while the page is visible: polling pauses in a hidden tab. */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const changed = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', changed);
    return () => document.removeEventListener('visibilitychange', changed);
  }, []);
  return visible;
}
