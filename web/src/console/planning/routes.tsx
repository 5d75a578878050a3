import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Check, dateOr, DepotSelect, FallbackNote, formatDistance, formatDuration, hrefWith, plural, RouteStatusBadge, Time, useDepots, useDriverNames, usePermission, type RouteSummary } from './common.tsx';
import { RoutePage, ROUTES_PATH } from './route-page.tsx';
import { TableHead } from '../../ui/table.tsx';

// Route planning: a depot and a date (both in the query string, so a link
// shares the view) give that day's routes; "Plan the day" asks the server to
// share the depot's waiting truck shipments among its free drivers and vans.
// `/console/routes/{id}` is one route (route-page.tsx).

const PAGE_SIZE = 50;

export default function RoutesScreen() {
  const { path } = useLocation();
  const rest = path.slice(ROUTES_PATH.length);
  if (rest.startsWith('/') && rest.length > 1) return <RoutePage id={decodeURIComponent(rest.slice(1))} />;
  return <RouteList />;
}

function RouteList() {
  const { query, route: go } = useLocation();
  const { depots, error: depotError, allowed: depotsAllowed } = useDepots();
  const canPlan = usePermission('route.manage');
  const depot = query['depot'] ?? '';
  const date = dateOr(query['date']);
  const [dateDraft, setDateDraft] = useState(date);
  const [routes, setRoutes] = useState<readonly RouteSummary[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [planError, setPlanError] = useState<unknown>(undefined);
  const [planned, setPlanned] = useState<string | undefined>(undefined);
  const [fallbackReason, setFallbackReason] = useState<string | undefined>(undefined);
  const [fallback, setFallback] = useState(false);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);
  const names = useDriverNames(depot === '' ? undefined : depot);

  useEffect(() => setDateDraft(date), [date]);

  /** One page of the day's routes: the first, or the one after `cursor`. */
  const load = (cursor?: string) => api(() => client.GET('/api/v1/routes', { params: { query: { date, limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }), ...(depot === '' ? {} : { depot }) } } }));

  // With one depot (or none chosen yet) the first is shown.
  useEffect(() => {
    const first = depots?.[0];
    if (depot === '' && first !== undefined) go(hrefWith(ROUTES_PATH, { depot: first.id, date: query['date'] }), true);
  }, [depots, depot, go, query]);

  useEffect(() => {
    if (depot === '' && depotsAllowed) return undefined;
    let live = true;
    setRoutes(undefined);
    setError(undefined);
    load()
      .then((page) => {
        if (!live) return;
        setRoutes(page.items);
        setCursor(page.nextCursor);
      })
      .catch((failure: unknown) => {
        if (!live) return;
        setRoutes([]);
        setError(failure);
      });
    return () => {
      live = false;
    };
  }, [depot, date, reload, depotsAllowed]);

  const more = async () => {
    if (cursor === null) return;
    try {
      const page = await load(cursor);
      setRoutes((shown) => [...(shown ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure);
    }
  };

  const plan = async () => {
    setBusy(true);
    setPlanError(undefined);
    setPlanned(undefined);
    setFallbackReason(undefined);
    try {
      const result = await api(() => client.POST('/api/v1/routes/plan', { body: { depotId: depot, date, fallback } }));
      const stops = result.routes.reduce((total, r) => total + r.stops.length, 0);
      setPlanned(`Planned ${plural(result.routes.length, 'route', 'routes')} with ${plural(stops, 'stop', 'stops')}.`);
      setFallbackReason(result.fallbackReason);
      setReload((n) => n + 1);
    } catch (failure) {
      setPlanError(failure);
    } finally {
      setBusy(false);
    }
  };

  const depotName = depots?.find((d) => d.id === depot)?.name ?? depot;
  return (
    <section aria-labelledby="routes-title">
      <h1 id="routes-title">Route planning</h1>
      <form
        class="toolbar planning-filters"
        aria-label="Depot and date"
        onSubmit={(event) => {
          event.preventDefault();
          go(hrefWith(ROUTES_PATH, { depot, date: dateOr(dateDraft) }));
        }}
      >
        {depotsAllowed ? <DepotSelect depots={depots} value={depot} onChange={(value) => go(hrefWith(ROUTES_PATH, { depot: value, date }))} /> : null}
        <Field label="Date" type="date" name="date" value={dateDraft} onInput={setDateDraft} />
        <Button type="submit" kind="secondary">Show routes</Button>
      </form>
      <ErrorNote error={depotError} />
      {depots !== undefined && depots.length === 0 && depotError === undefined ? <p>No depot is visible to you.</p> : null}

      {canPlan && depot !== '' ? (
        <div class="card planning-plan">
          <h2>Plan the day</h2>
          <p class="hint">Shares {depotName}'s waiting truck shipments with windows on {date} among its free drivers and vehicles, one optimised route each.</p>
          <Check label="If the road router fails, use straight-line distances" checked={fallback} onChange={setFallback} />
          <Button busy={busy} onClick={() => void plan()}>Plan the day</Button>
          <div role="status">{planned === undefined ? null : <p class="notice">{planned}</p>}</div>
          <FallbackNote reason={fallbackReason} />
          <ErrorNote error={planError} />
        </div>
      ) : null}

      <h2>{depot === '' ? `Routes on ${date}` : `Routes of ${depotName} on ${date}`}</h2>
      <ErrorNote error={error} />
      <p role="status" class="planning-status">
        {depot === '' && depotsAllowed ? 'Choose a depot.' : routes === undefined ? 'Loading routes…' : routes.length === 0 ? (error === undefined ? `No routes on ${date} yet.` : '') : plural(routes.length, 'route', 'routes') + (cursor === null ? '.' : ' so far.')}
      </p>
      {routes === undefined || routes.length === 0 ? null : (
        <table class="data planning-routes">
          <caption class="planning-sr">Routes of the day</caption>
          <TableHead columns={['Driver', 'Vehicle', 'Status', 'Departs', 'Returns', 'Distance', 'Time', 'Distances']} />
          <tbody>
            {routes.map((r) => (
              <tr key={r.id}>
                <td><a href={`${ROUTES_PATH}/${encodeURIComponent(r.id)}`}>Route of {names.get(r.driverId) ?? r.driverId}</a></td>
                <td>{r.vehicleId}</td>
                <td><RouteStatusBadge status={r.status} /></td>
                <td><Time iso={r.departureAt} style="clock" /></td>
                <td><Time iso={r.returnAt} style="clock" /></td>
                <td>{formatDistance(r.totalDistanceMetres)}</td>
                <td>{formatDuration(r.totalDurationSeconds)}</td>
                <td>{r.provider === 'osrm' ? 'Road' : 'Straight line'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor === null ? null : (
        <div class="pager">
          <Button kind="secondary" onClick={() => void more()}>More routes</Button>
        </div>
      )}
    </section>
  );
}
