import { useEffect, useId, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Pager, plural, problemsOf, SelectField, ShownOnce, subPath, Time, useAction, useDepots, usePages, usePermission } from './common.tsx';
import { bothKeys, DEVICES, DeviceStatus, isKind, isStatus, KINDS, STATUSES, type Device, type Kind, type Status } from './device-common.tsx';
import { DevicePage } from './device-page.tsx';
import { TableHead } from '../../ui/table.tsx';

// Devices for an administrator: the list (search, status and kind in the
// address so a view can be shared; cursor pages) and a new device with its
// two keys shown once. One device's page (enable or disable, its keys, a SAS
// token, client-certificate thumbprints) is device-page.tsx. Keys and tokens
// live only in the page's memory while shown: a reload shows nothing again.

const PAGE_SIZE = 25;
const FILTERS = ['q', 'status', 'kind'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function listHref(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filters[name]?.trim();
    if (value !== undefined && value !== '') params.set(name, value);
  }
  const search = params.toString();
  return search === '' ? DEVICES : `${DEVICES}?${search}`;
}

export default function DevicesScreen() {
  const { path } = useLocation();
  const id = subPath(path, DEVICES);
  return id === undefined ? <DeviceList /> : <DevicePage id={id} />;
}

function DeviceList() {
  const { query, route } = useLocation();
  const canManage = usePermission('device.manage');
  const filters: Filters = { q: query['q'] ?? '', status: isStatus(query['status']) ? query['status'] : '', kind: isKind(query['kind']) ? query['kind'] : '' };
  const key = listHref(filters);
  const [draft, setDraft] = useState(filters.q ?? '');
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<Ok<'/api/v1/devices', 'post'> | undefined>(undefined);
  useEffect(() => setDraft(query['q'] ?? ''), [query['q']]);

  const pages = usePages<Device>(key, (cursor) => {
    const q = filters.q?.trim() ?? '';
    return api(() =>
      client.GET('/api/v1/devices', {
        params: { query: { limit: PAGE_SIZE, ...(q === '' ? {} : { q }), ...(isStatus(filters.status) ? { status: filters.status } : {}), ...(isKind(filters.kind) ? { kind: filters.kind } : {}), ...(cursor === undefined ? {} : { cursor }) } },
      }),
    );
  });
  const filtered = key !== DEVICES;

  return (
    <section aria-labelledby="devices-title">
      <div class="admin-head">
        <h1 id="devices-title">Devices</h1>
        {canManage && !adding ? <Button onClick={() => { setAdding(true); setCreated(undefined); }}>Add device</Button> : null}
      </div>
      {created === undefined ? null : (
        <ShownOnce title={`Keys of ${created.device.name}`} secrets={bothKeys(created)} onDone={() => setCreated(undefined)}>
          <p>
            Put them in the device <code>{created.device.id}</code>’s secure storage. It signs its SAS tokens with either key; keeping both lets you replace one later without taking the device offline.
          </p>
        </ShownOnce>
      )}
      {adding ? (
        <NewDevice
          onCancel={() => setAdding(false)}
          onCreated={(result) => {
            setAdding(false);
            setCreated(result);
            pages.reload();
          }}
        />
      ) : null}
      <form
        class="toolbar"
        role="search"
        aria-label="Find devices"
        onSubmit={(event) => {
          event.preventDefault();
          route(listHref({ ...filters, q: draft }));
        }}
      >
        <Field label="Id or name contains" type="search" name="q" value={draft} onInput={setDraft} />
        <SelectField label="Status" value={filters.status ?? ''} onChange={(status) => route(listHref({ ...filters, q: draft, status }))} options={[{ value: '', label: 'Any status' }, ...(Object.keys(STATUSES) as Status[]).map((s) => ({ value: s, label: STATUSES[s] }))]} />
        <SelectField label="Kind" value={filters.kind ?? ''} onChange={(kind) => route(listHref({ ...filters, q: draft, kind }))} options={[{ value: '', label: 'Any kind' }, ...(Object.keys(KINDS) as Kind[]).map((k) => ({ value: k, label: KINDS[k] }))]} />
        <Button type="submit" kind="secondary">Search</Button>
        {filtered ? <a class="button secondary" href={DEVICES}>Clear</a> : null}
      </form>
      <ErrorNote error={pages.error} />
      <p role="status" class="admin-summary">
        {pages.loading ? 'Loading devices…' : pages.error !== undefined ? '' : pages.items.length === 0 ? (filtered ? 'No devices match.' : 'No devices yet. Add one to give it its keys.') : `${plural(pages.items.length, 'device', 'devices')} on page ${pages.pageNumber}, by id.`}
      </p>
      {pages.items.length === 0 ? null : (
        <table class="data">
          <caption class="admin-sr-only">Devices, by id</caption>
          <TableHead columns={['Id', 'Name', 'Kind', 'Depot', 'Status', 'Last seen', 'Added']} />
          <tbody>
            {pages.items.map((device) => (
              <tr key={device.id}>
                <td>
                  <a href={`${DEVICES}/${encodeURIComponent(device.id)}`}>
                    <code>{device.id}</code>
                  </a>
                </td>
                <td>{device.name}</td>
                <td>{KINDS[device.kind]}</td>
                <td>{device.depot}</td>
                <td>
                  <DeviceStatus status={device.status} />
                </td>
                <td>
                  <Time iso={device.lastSeenAt} empty="Never" />
                </td>
                <td>
                  <Time iso={device.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Device pages" pageNumber={pages.pageNumber} hasPrevious={pages.hasPrevious} hasNext={pages.hasNext} onPrevious={pages.previous} onNext={pages.next} />
    </section>
  );
}

function NewDevice(props: { readonly onCancel: () => void; readonly onCreated: (created: Ok<'/api/v1/devices', 'post'>) => void }) {
  const depots = useDepots() ?? [];
  const listId = useId();
  const depotId = useId();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('drone');
  const [depot, setDepot] = useState('');
  const action = useAction();
  const problems = problemsOf(action.error);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('create', async () => {
      props.onCreated(await api(() => client.POST('/api/v1/devices', { body: { id: id.trim(), name: name.trim(), kind, depot: depot.trim() } })));
    });
  };
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="new-device-title">
      <h2 id="new-device-title">New device</h2>
      <div class="admin-form-grid">
        <Field label="Device id" value={id} onInput={setId} required autoFocus autoComplete="off" hint="Up to 128 characters: letters, digits, “.”, “_”, “:” and “-”. It appears in the device’s tokens and cannot change." problem={problems['id']} />
        <Field label="Name" value={name} onInput={setName} required autoComplete="off" problem={problems['name']} />
        <SelectField label="Kind" value={kind} onChange={(value) => { if (isKind(value)) setKind(value); }} options={(Object.keys(KINDS) as Kind[]).map((k) => ({ value: k, label: KINDS[k] }))} />
        <div class="field">
          <label for={depotId}>Depot</label>
          <input id={depotId} type="text" list={listId} value={depot} required autoComplete="off" aria-invalid={problems['depot'] === undefined ? undefined : true} onInput={(event) => setDepot(event.currentTarget.value)} />
          <datalist id={listId}>
            {depots.map((d) => (
              <option key={d.id} value={d.id}>{d.name}</option>
            ))}
          </datalist>
          {problems['depot'] === undefined ? <p class="hint">Dispatchers limited to depots see only their depots’ devices.</p> : <p class="field-problem">{problems['depot']}</p>}
        </div>
      </div>
      <ErrorNote error={action.error} />
      <div class="actions">
        <Button type="submit" busy={action.busy === 'create'}>Add device</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
