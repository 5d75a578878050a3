import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Pager, usePages } from '../../ui/pages.tsx';
import { CheckGroup, SelectField } from '../admin/common.tsx';
import { DepotSelect, plural, useDepots, useDriverNames, usePermission } from '../planning/common.tsx';
import { apiQuery, filtersFrom, IMPORT_PATH, listHref, MODE, MODES, NEW_PATH, NO_FILTERS, shipmentHref, SHIPMENTS_PATH, SORTS, STATUS, StatusBadge, STATUSES, Window, type ShipmentFilters, type ShipmentSort, type ShipmentSummary } from './shipment-common.tsx';
import { ImportPage } from './shipment-import.tsx';
import { NewShipmentPage } from './shipment-new.tsx';
import { ShipmentPage } from './shipment-page.tsx';
import { TableHead } from '../../ui/table.tsx';

// The dispatcher's shipments: a search (tracking number or reference) and
// filters by status, depot, mode and window days, all in the query string so
// a link shares the view and Back returns to it; pages are walked with the
// server's cursors, kept on a stack so "Previous page" goes back. Lists carry
// no recipient data (the API never sends it in lists); a shipment's page
// (/console/shipments/{id}) shows it to those allowed. New shipments and CSV
// imports live under the list too.

const PAGE_SIZE = 25;
const SORT_OPTIONS = (Object.entries(SORTS) as [ShipmentSort, string][]).map(([value, label]) => ({ value, label }));

export default function ShipmentsScreen() {
  const { path } = useLocation();
  const rest = path.slice(SHIPMENTS_PATH.length);
  if (rest === '/import') return <ImportPage />;
  if (rest === '/new') return <NewShipmentPage />;
  if (rest.startsWith('/') && rest.length > 1) return <ShipmentPage id={decodeURIComponent(rest.slice(1))} />;
  return <ShipmentList />;
}

function ShipmentList() {
  const { url, route: go } = useLocation();
  const search = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const filters = useMemo(() => filtersFrom(search), [search]);
  const key = listHref(filters);
  const { depots, error: depotError, allowed: depotsAllowed } = useDepots();
  const canManage = usePermission('shipment.manage');
  const names = useDriverNames(filters.depot === '' ? undefined : filters.depot);
  const [draft, setDraft] = useState<ShipmentFilters>(filters);
  const pages = usePages<ShipmentSummary>(key, (cursor) => api(() => client.GET('/api/v1/shipments', { params: { query: { ...apiQuery(filters), limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) } } })));

  // A link followed or Back pressed: the form shows the filters in force.
  useEffect(() => setDraft(filters), [key]);

  const apply = (event: Event) => {
    event.preventDefault();
    go(listHref({ ...draft, q: draft.q.trim() }));
  };
  const set = <K extends keyof ShipmentFilters>(name: K) => (value: ShipmentFilters[K]) => setDraft((d) => ({ ...d, [name]: value }));
  const filtered = key !== SHIPMENTS_PATH;
  const { items, loading, error, pageNumber } = pages;
  const depotName = (id: string) => depots?.find((d) => d.id === id)?.name ?? id;

  return (
    <section aria-labelledby="shipments-title">
      <div class="shipments-head">
        <h1 id="shipments-title">Shipments</h1>
        {canManage ? (
          <div class="actions">
            <a class="button primary" href={NEW_PATH}>New shipment</a>
            <a class="button secondary" href={IMPORT_PATH}>Import CSV</a>
          </div>
        ) : null}
      </div>
      <form class="card shipments-filters" aria-label="Search and filter shipments" onSubmit={apply}>
        <div class="toolbar">
          <Field label="Tracking number or reference" type="search" name="q" value={draft.q} onInput={set('q')} />
          {depotsAllowed ? <DepotSelect depots={depots} value={draft.depot} onChange={set('depot')} allowAll /> : null}
          <SelectField label="Mode" name="mode" value={draft.mode} options={[{ value: '', label: 'Any mode' }, ...MODES.map((m) => ({ value: m, label: MODE[m] }))]} onChange={(value) => set('mode')(MODES.find((m) => m === value) ?? '')} />
          <Field label="Window from (UTC day)" type="date" name="from" value={draft.from} onInput={set('from')} />
          <Field label="Window to (UTC day)" type="date" name="to" value={draft.to} onInput={set('to')} />
          <SelectField label="Sort by" name="sort" value={draft.sort} options={SORT_OPTIONS} onChange={(value) => set('sort')(SORT_OPTIONS.find((o) => o.value === value)?.value ?? 'createdAt')} />
        </div>
        <CheckGroup legend="Status" hint="None ticked: any status." options={STATUSES.map((s) => ({ value: s, label: STATUS[s].label }))} selected={draft.status} onChange={(chosen) => set('status')(STATUSES.filter((s) => chosen.includes(s)))} />
        <div class="shipments-filter-actions">
          <Button type="submit">Show shipments</Button>
          {filtered ? <a class="button secondary" href={listHref(NO_FILTERS)}>Clear filters</a> : null}
        </div>
      </form>
      <ErrorNote error={depotError} />
      <ErrorNote error={error} />
      <p role="status" aria-live="polite" class="shipments-summary">
        {loading ? 'Loading shipments…' : error !== undefined ? '' : items.length === 0 ? (pageNumber > 1 ? 'No more shipments.' : filtered ? 'No shipments match these filters.' : 'No shipments yet.') : `${plural(items.length, 'shipment', 'shipments')} on page ${pageNumber}${filtered ? ', filtered' : ''}.`}
      </p>
      {!loading && error === undefined && items.length === 0 && !filtered && canManage ? (
        <p class="shipments-empty">
          Create one with <a href={NEW_PATH}>New shipment</a>, or bring many at once with <a href={IMPORT_PATH}>Import CSV</a>.
        </p>
      ) : null}
      {items.length === 0 ? null : (
        <table class="data shipments-table" aria-busy={loading ? true : undefined}>
          <caption class="shipments-sr">Shipments, page {pageNumber}</caption>
          <TableHead columns={['Tracking number', 'Reference', 'Depot', 'Mode', 'Status', 'Window', 'Driver']} />
          <tbody>
            {items.map((s) => (
              <tr key={s.id}>
                <td><a class="shipments-tracking" href={shipmentHref(s.id)}>{s.trackingNumber}</a></td>
                <td>{s.reference ?? <span class="shipments-muted">—</span>}</td>
                <td>{depotName(s.depotId)}</td>
                <td>{MODE[s.mode]}</td>
                <td><StatusBadge status={s.status} /></td>
                <td><Window window={s.window} /></td>
                <td>{s.assignedDriverId === null ? <span class="shipments-muted">—</span> : (names.get(s.assignedDriverId) ?? s.assignedDriverId)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Pages of shipments" pageNumber={pageNumber} hasPrevious={pages.hasPrevious} hasNext={pages.hasNext} onPrevious={pages.previous} onNext={pages.next} />
    </section>
  );
}
