import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { readAll } from '../../ui/pages.tsx';
import { dateOr, DepotSelect, hrefWith, plural, RouteStatusBadge, STANDING, StandingBadge, standingOf, Time, todayUtc, useDepots, useDriverNames, usePageVisible, usePermission, type RouteDetail, type StopStanding } from './common.tsx';
import { ROUTES_PATH } from './route-page.tsx';
import { TableHead } from '../../ui/table.tsx';

// Today's board: every route of the day by depot, each stop marked on time,
// late, not visited or failed against its window, refreshed every few seconds
// while the tab is visible. Beside it the exceptions: failed deliveries (with
// the driver's reason), devices silent for too long, and low batteries.

type Shipment = Ok<'/api/v1/shipments', 'get'>['items'][number];
type Device = Ok<'/api/v1/devices/status', 'get'>['items'][number];

export const BOARD_PATH = '/console/board';
const POLL_MS = 5000;
/** A device not heard from for this long is listed as silent. */
export const SILENT_AFTER_MS = 5 * 60_000;
/** A battery at or below this percentage is listed as low. */
export const LOW_BATTERY_PERCENT = 20;
const MAX_ROUTES = 200;

const REASONS: Record<NonNullable<Shipment['failureReason']>, string> = {
  recipient_absent: 'Recipient absent',
  address_not_found: 'Address not found',
  refused: 'Refused by the recipient',
  damaged: 'Parcel damaged',
  access_denied: 'No access',
  weather: 'Weather',
  other: 'Other reason',
};

interface Board {
  readonly routes: readonly RouteDetail[];
  readonly more: boolean;
  readonly failed: ReadonlyMap<string, Shipment>;
  readonly devices: readonly Device[] | undefined;
  readonly at: number;
}

async function loadBoard(depot: string, date: string, devicesAllowed: boolean): Promise<Board> {
  const { items: summaries, more } = await readAll((cursor) => api(() => client.GET('/api/v1/routes', { params: { query: { date, limit: 100, ...(depot === '' ? {} : { depot }), ...(cursor === undefined ? {} : { cursor }) } } })), MAX_ROUTES);
  const dayStart = `${date}T00:00:00.000Z`;
  const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
  const [routes, failed, devices] = await Promise.all([
    Promise.all(summaries.slice(0, MAX_ROUTES).map((r) => api(() => client.GET('/api/v1/routes/{id}', { params: { path: { id: r.id } } })))),
    api(() => client.GET('/api/v1/shipments', { params: { query: { status: ['failed'], windowFrom: dayStart, windowTo: dayEnd, limit: 100, ...(depot === '' ? {} : { depot }) } } })),
    devicesAllowed ? api(() => client.GET('/api/v1/devices/status', { params: { query: { limit: 500, ...(depot === '' ? {} : { depot }) } } })).then((page) => page.items) : Promise.resolve(undefined),
  ]);
  return { routes, more, failed: new Map(failed.items.map((s) => [s.id, s])), devices, at: Date.now() };
}

export default function BoardScreen() {
  const { query, route: go } = useLocation();
  const { depots, error: depotError, allowed: depotsAllowed } = useDepots();
  const devicesAllowed = usePermission('device.read');
  const visible = usePageVisible();
  const depot = query['depot'] ?? '';
  const date = dateOr(query['date']);
  const [dateDraft, setDateDraft] = useState(date);
  const [board, setBoard] = useState<Board | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [nudge, setNudge] = useState(0);
  const names = useDriverNames(depot === '' ? undefined : depot);

  useEffect(() => setDateDraft(date), [date]);

  useEffect(() => {
    if (!visible) return undefined;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const loaded = await loadBoard(depot, date, devicesAllowed);
        if (!live) return;
        setBoard(loaded);
        setError(undefined);
      } catch (failure) {
        if (live) setError(failure);
      }
      if (live) timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [visible, depot, date, devicesAllowed, nudge]);

  useEffect(() => setBoard(undefined), [depot, date]);

  const today = date === todayUtc();
  const depotName = (id: string) => depots?.find((d) => d.id === id)?.name ?? id;
  const byDepot = new Map<string, RouteDetail[]>();
  for (const r of board?.routes ?? []) byDepot.set(r.depotId, [...(byDepot.get(r.depotId) ?? []), r]);
  const now = board?.at ?? Date.now();

  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">{today ? "Today's board" : `Board of ${date}`}</h1>
      <form
        class="toolbar planning-filters"
        aria-label="Depot and date"
        onSubmit={(event) => {
          event.preventDefault();
          go(hrefWith(BOARD_PATH, { depot, date: dateOr(dateDraft) === todayUtc() ? undefined : dateOr(dateDraft) }));
        }}
      >
        {depotsAllowed ? <DepotSelect depots={depots} value={depot} allowAll onChange={(value) => go(hrefWith(BOARD_PATH, { depot: value, date: today ? undefined : date }))} /> : null}
        <Field label="Date" type="date" name="date" value={dateDraft} onInput={setDateDraft} />
        <Button type="submit" kind="secondary">Show</Button>
        <Button kind="secondary" onClick={() => setNudge((n) => n + 1)}>Refresh now</Button>
      </form>
      <ErrorNote error={depotError} />
      <p class="planning-status" role="status">
        {board === undefined ? 'Loading the board…' : `${plural(board.routes.length, 'route', 'routes')}${board.more ? ` (the first ${MAX_ROUTES})` : ''}. `}
        {board === undefined ? null : <>Updated <Time iso={new Date(board.at).toISOString()} style="clock" />{visible ? `, refreshed every ${POLL_MS / 1000} s.` : '; paused while this tab is hidden.'}</>}
      </p>
      <ErrorNote error={error} />
      <div class="planning-board">
        <div class="planning-board-routes">
          {board !== undefined && board.routes.length === 0 ? <p>No routes on {date}{depot === '' ? '' : ` at ${depotName(depot)}`}.</p> : null}
          {[...byDepot.entries()].map(([depotId, routes]) => (
            <section key={depotId} aria-labelledby={`board-depot-${depotId}`}>
              <h2 id={`board-depot-${depotId}`}>{depotName(depotId)}</h2>
              {routes.map((r) => <RouteCard key={r.id} route={r} driver={names.get(r.driverId) ?? r.driverId} now={now} />)}
            </section>
          ))}
        </div>
        <Exceptions board={board} devicesAllowed={devicesAllowed} names={names} now={now} />
      </div>
    </section>
  );
}

function RouteCard(props: { readonly route: RouteDetail; readonly driver: string; readonly now: number }) {
  const { route, driver, now } = props;
  const standings = route.stops.map((stop) => standingOf(stop, route.status, now));
  const counts = new Map<StopStanding, number>();
  for (const s of standings) counts.set(s, (counts.get(s) ?? 0) + 1);
  const summary = (Object.keys(STANDING) as StopStanding[]).filter((s) => (counts.get(s) ?? 0) > 0).map((s) => `${counts.get(s) ?? 0} ${STANDING[s].label.toLowerCase()}`).join(' · ');
  const titleId = `board-route-${route.id}`;
  return (
    <article class="card planning-board-route" aria-labelledby={titleId}>
      <h3 id={titleId}>
        <a href={`${ROUTES_PATH}/${encodeURIComponent(route.id)}`}>{driver} · {route.vehicleId}</a> <RouteStatusBadge status={route.status} />
      </h3>
      <p class="muted">{summary === '' ? 'No stops.' : summary}</p>
      {route.stops.length === 0 ? null : (
        <table class="data planning-board-stops">
          <caption class="planning-sr">Stops of {driver}'s route</caption>
          <TableHead columns={['#', 'Tracking', 'Window', 'Planned', 'Arrived', 'Standing']} />
          <tbody>
            {route.stops.map((stop, i) => (
              <tr key={stop.id} data-stop={stop.id}>
                <td>{i + 1}</td>
                <td>{stop.trackingNumber}</td>
                <td><Time iso={stop.window.start} style="clock" />–<Time iso={stop.window.end} style="clock" /></td>
                <td><Time iso={stop.eta} style="clock" /></td>
                <td><Time iso={stop.arrivedAt} style="clock" /></td>
                <td><StandingBadge standing={standings[i] ?? 'upcoming'} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

function ago(iso: string, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} days ago`;
}

function Exceptions(props: { readonly board: Board | undefined; readonly devicesAllowed: boolean; readonly names: ReadonlyMap<string, string>; readonly now: number }) {
  const { board, devicesAllowed, names, now } = props;
  const failedStops = (board?.routes ?? []).flatMap((route) => route.stops.filter((s) => s.status === 'failed').map((stop) => ({ route, stop })));
  const onRoutes = new Set(failedStops.map((f) => f.stop.shipmentId));
  const failedElsewhere = [...(board?.failed.values() ?? [])].filter((s) => !onRoutes.has(s.id));
  const devices = (board?.devices ?? []).filter((d) => d.status === 'enabled');
  const silent = devices.filter((d) => d.lastSeenAt !== null && now - Date.parse(d.lastSeenAt) > SILENT_AFTER_MS);
  const low = devices.filter((d) => d.reading?.battery !== null && d.reading?.battery !== undefined && d.reading.battery <= LOW_BATTERY_PERCENT);
  const total = failedStops.length + failedElsewhere.length + silent.length + low.length;
  return (
    <aside class="planning-exceptions" aria-labelledby="exceptions-title">
      <h2 id="exceptions-title">Exceptions {board === undefined ? null : <span class={`badge ${total === 0 ? 'ok' : 'bad'}`}>{total}</span>}</h2>
      <h3>Failed deliveries</h3>
      {failedStops.length + failedElsewhere.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul class="planning-exception-list" aria-label="Failed deliveries">
          {failedStops.map(({ route, stop }) => {
            const reason = board?.failed.get(stop.shipmentId)?.failureReason;
            return (
              <li key={stop.id}>
                <strong>{stop.trackingNumber}</strong> {reason === null || reason === undefined ? null : <span class="badge bad">{REASONS[reason]}</span>}
                <br />
                <a href={`${ROUTES_PATH}/${encodeURIComponent(route.id)}`}>Route of {names.get(route.driverId) ?? route.driverId}</a>, stop {route.stops.indexOf(stop) + 1}
              </li>
            );
          })}
          {failedElsewhere.map((s) => (
            <li key={s.id}>
              <strong>{s.trackingNumber}</strong> {s.failureReason === null ? null : <span class="badge bad">{REASONS[s.failureReason]}</span>}
              <br />
              <span class="muted">Not on a route of this day</span>
            </li>
          ))}
        </ul>
      )}
      <h3>Silent devices</h3>
      {!devicesAllowed ? (
        <p class="muted">Your role does not see devices.</p>
      ) : silent.length === 0 ? (
        <p class="muted">None silent for more than {SILENT_AFTER_MS / 60_000} min.</p>
      ) : (
        <ul class="planning-exception-list" aria-label="Silent devices">
          {silent.map((d) => (
            <li key={d.id}>
              <strong>{d.name}</strong> <span class="muted">({d.kind}, {d.id})</span>
              <br />
              Last heard {d.lastSeenAt === null ? 'never' : ago(d.lastSeenAt, now)}
            </li>
          ))}
        </ul>
      )}
      <h3>Low battery</h3>
      {!devicesAllowed ? null : low.length === 0 ? (
        <p class="muted">None at or below {LOW_BATTERY_PERCENT} %.</p>
      ) : (
        <ul class="planning-exception-list" aria-label="Low battery">
          {low.map((d) => (
            <li key={d.id}>
              <strong>{d.name}</strong> <span class="badge warn">{Math.round(d.reading?.battery ?? 0)} %</span>
              <br />
              <span class="muted">{d.kind}, {d.id}</span>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
