import { useEffect, useId, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { BackLink, Badge, ConfirmDialog, Pager, plural, problemsOf, SelectField, ShownOnce, subPath, Time, useAction, usePages, usePermission, type Option, type Secret } from './common.tsx';

// Devices for an administrator: the list (search, status and kind in the
// address so a view can be shared; cursor pages), a new device and its two
// keys shown once, and one device's page: enable or disable, replace a key,
// show the keys, a SAS token, client-certificate thumbprints. Keys and tokens
// live only in the page's memory while shown: a reload shows nothing again.

export type Device = Ok<'/api/v1/devices', 'get'>['items'][number];
type Kind = Device['kind'];
type Status = Device['status'];
type Depot = Ok<'/api/v1/depots', 'get'>['items'][number];
type Hub = Ok<'/api/v1/hubs', 'get'>['hubs'][number];

const DEVICES = '/console/devices';
const PAGE_SIZE = 25;
const KINDS: Record<Kind, string> = { drone: 'Drone', truck: 'Truck' };
const STATUSES: Record<Status, string> = { enabled: 'Enabled', disabled: 'Disabled' };
const FILTERS = ['q', 'status', 'kind'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function isKind(value: string | undefined): value is Kind {
  return value !== undefined && value in KINDS;
}

function isStatus(value: string | undefined): value is Status {
  return value !== undefined && value in STATUSES;
}

function listHref(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filters[name]?.trim();
    if (value !== undefined && value !== '') params.set(name, value);
  }
  const search = params.toString();
  return search === '' ? DEVICES : `${DEVICES}?${search}`;
}

function DeviceStatus(props: { readonly status: Status }) {
  return <Badge tone={props.status === 'enabled' ? 'ok' : 'bad'}>{STATUSES[props.status]}</Badge>;
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
        <ShownOnce title={`Keys of ${created.device.name}`} secrets={[{ label: 'Primary key', value: created.primaryKey }, { label: 'Secondary key', value: created.secondaryKey }]} onDone={() => setCreated(undefined)}>
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
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Depot</th>
              <th scope="col">Status</th>
              <th scope="col">Last seen</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
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

function useDepots(): readonly Depot[] {
  const [depots, setDepots] = useState<readonly Depot[]>([]);
  useEffect(() => {
    api(() => client.GET('/api/v1/depots', { params: { query: { limit: 100 } } }))
      .then((page) => setDepots(page.items))
      .catch(() => setDepots([]));
  }, []);
  return depots;
}

function NewDevice(props: { readonly onCancel: () => void; readonly onCreated: (created: Ok<'/api/v1/devices', 'post'>) => void }) {
  const depots = useDepots();
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

type Pending = 'disable' | 'enable' | 'reveal' | { readonly rotate: 'primary' | 'secondary' };

const LIFETIMES: Option[] = [
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days' },
  { value: '2592000', label: '30 days' },
];

function DevicePage(props: { readonly id: string }) {
  const canManage = usePermission('device.manage');
  const canReveal = usePermission('device.key.reveal');
  const [device, setDevice] = useState<Device | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [shown, setShown] = useState<{ title: string; secrets: Secret[]; note: string } | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const path = { params: { path: { id: props.id } } };

  useEffect(() => {
    setDevice(undefined);
    setLoadError(undefined);
    api(() => client.GET('/api/v1/devices/{id}', { params: { path: { id: props.id } } }))
      .then(setDevice)
      .catch(setLoadError);
  }, [props.id]);

  if (loadError !== undefined) {
    return (
      <section aria-labelledby="device-title">
        <BackLink href={DEVICES}>All devices</BackLink>
        <h1 id="device-title">Device</h1>
        <ErrorNote error={loadError} />
      </section>
    );
  }
  if (device === undefined) return <p class="loading" role="status">Loading the device…</p>;

  const close = () => setPending(undefined);
  const dialog = (() => {
    if (pending === undefined) return null;
    if (typeof pending === 'object') {
      const which = pending.rotate;
      return (
        <ConfirmDialog title={`Replace the ${which} key of ${device.name}?`} confirmLabel={`Replace ${which} key`} onClose={close} onConfirm={async () => {
          const result = await api(() => client.POST('/api/v1/devices/{id}/keys/{which}/rotate', { params: { path: { id: props.id, which } } }));
          setDevice(result.device);
          setShown({ title: `New ${which} key of ${device.name}`, secrets: [{ label: `${which === 'primary' ? 'Primary' : 'Secondary'} key`, value: result.key }], note: 'Put it in the device now: tokens signed with the old key are refused from this moment.' });
        }}>
          <p>The old {which} key stops working at once: the device’s connections and tokens signed with it are refused. Switch the device to its other key first, then replace this one.</p>
          <p>This asks for your second factor again and is recorded in the audit trail.</p>
        </ConfirmDialog>
      );
    }
    switch (pending) {
      case 'disable':
        return (
          <ConfirmDialog title={`Disable ${device.name}?`} confirmLabel="Disable device" onClose={close} onConfirm={async () => {
            setDevice(await api(() => client.POST('/api/v1/devices/{id}/disable', path)));
            setNotice('The device is disabled; its connections end within a second.');
          }}>
            <p>Its connections end within a second and it cannot send telemetry until it is enabled again. Its keys stay as they are.</p>
          </ConfirmDialog>
        );
      case 'enable':
        return (
          <ConfirmDialog title={`Enable ${device.name}?`} confirmLabel="Enable device" kind="primary" onClose={close} onConfirm={async () => {
            setDevice(await api(() => client.POST('/api/v1/devices/{id}/enable', path)));
            setNotice('The device is enabled.');
          }}>
            <p>It may connect and send telemetry again with its current keys.</p>
          </ConfirmDialog>
        );
      case 'reveal':
        return (
          <ConfirmDialog title={`Show the keys of ${device.name}?`} confirmLabel="Show keys" kind="primary" onClose={close} onConfirm={async () => {
            const keys = await api(() => client.GET('/api/v1/devices/{id}/keys', path));
            setShown({ title: `Keys of ${device.name}`, secrets: [{ label: 'Primary key', value: keys.primaryKey }, { label: 'Secondary key', value: keys.secondaryKey }], note: '' });
          }}>
            <p>Showing a device’s keys asks for your second factor again and is recorded in the audit trail with your name.</p>
          </ConfirmDialog>
        );
    }
  })();

  return (
    <section aria-labelledby="device-title">
      <BackLink href={DEVICES}>All devices</BackLink>
      <h1 id="device-title">{device.name}</h1>
      <p role="status" class="admin-notice-line">{notice === '' ? null : <span class="notice admin-inline-notice">{notice}</span>}</p>
      {shown === undefined ? null : (
        <ShownOnce title={shown.title} secrets={shown.secrets} onDone={() => setShown(undefined)}>
          {shown.note === '' ? null : <p>{shown.note}</p>}
        </ShownOnce>
      )}
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{device.id}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{KINDS[device.kind]}</dd>
        <dt>Depot</dt>
        <dd>{device.depot}</dd>
        <dt>Status</dt>
        <dd>
          <DeviceStatus status={device.status} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <Time iso={device.lastSeenAt} empty="Never" />
        </dd>
        <dt>Client certificates</dt>
        <dd>{device.thumbprints.length === 0 ? 'None' : plural(device.thumbprints.length, 'thumbprint', 'thumbprints')}</dd>
        <dt>Added</dt>
        <dd>
          <Time iso={device.createdAt} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Time iso={device.updatedAt} /> (revision {device.revision})
        </dd>
      </dl>
      {dialog}

      {canManage ? (
        <div class="admin-panel">
          <h2>Status</h2>
          {device.status === 'enabled' ? (
            <>
              <Button kind="danger" onClick={() => setPending('disable')}>Disable device</Button>
              <p class="hint">Ends its connections and refuses it until enabled again.</p>
            </>
          ) : (
            <Button kind="secondary" onClick={() => setPending('enable')}>Enable device</Button>
          )}
        </div>
      ) : null}

      {canReveal ? (
        <div class="admin-panel">
          <h2>Keys</h2>
          <p class="hint">Each of these asks for your second factor again and is recorded in the audit trail.</p>
          <div class="actions">
            <Button kind="danger" onClick={() => setPending({ rotate: 'primary' })}>Replace primary key</Button>
            <Button kind="danger" onClick={() => setPending({ rotate: 'secondary' })}>Replace secondary key</Button>
            <Button kind="secondary" onClick={() => setPending('reveal')}>Show keys</Button>
          </div>
        </div>
      ) : null}

      {canReveal ? <TokenForm device={device} onIssued={(issued) => setShown(issued)} /> : null}
      {canManage ? <Thumbprints device={device} onSaved={(next) => { setDevice(next); setNotice('Thumbprints saved.'); }} /> : null}
    </section>
  );
}

function TokenForm(props: { readonly device: Device; readonly onIssued: (shown: { title: string; secrets: Secret[]; note: string }) => void }) {
  const [scope, setScope] = useState<'http' | 'mqtt'>('http');
  const [hub, setHub] = useState('');
  const [ttl, setTtl] = useState('86400');
  const [hubs, setHubs] = useState<readonly Hub[]>([]);
  const action = useAction();
  useEffect(() => {
    api(() => client.GET('/api/v1/hubs'))
      .then((list) => setHubs(list.hubs))
      .catch(() => setHubs([]));
  }, []);
  const defaultHub = `${props.device.kind}-telemetry`;
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('token', async () => {
      const body = { ttlSeconds: Number(ttl), scope, ...(scope === 'http' && hub !== '' ? { hub } : {}) };
      const issued = await api(() => client.POST('/api/v1/devices/{id}/token', { params: { path: { id: props.device.id } }, body }));
      props.onIssued({
        title: `SAS token for ${props.device.name}`,
        secrets: [{ label: 'Token', value: issued.token }],
        note: `For ${issued.resourceUri}; valid until ${new Date(issued.expiresAt).toLocaleString('en-GB')}. Anyone holding it can send as this device until then.`,
      });
    });
  };
  return (
    <form class="admin-panel" onSubmit={submit} aria-labelledby="token-title">
      <h2 id="token-title">SAS token</h2>
      <p class="hint">A token signed with the primary key, for a device that cannot sign its own (tests, a gateway). It asks for your second factor again and is audited.</p>
      <div class="toolbar">
        <SelectField label="For" value={scope} onChange={(value) => setScope(value === 'mqtt' ? 'mqtt' : 'http')} options={[{ value: 'http', label: 'HTTPS ingest' }, { value: 'mqtt', label: 'MQTT' }]} />
        {scope === 'http' ? (
          <SelectField label="Hub" value={hub} onChange={setHub} options={[{ value: '', label: `Default (${defaultHub})` }, ...hubs.filter((h) => h.name !== defaultHub).map((h) => ({ value: h.name, label: h.name }))]} />
        ) : null}
        <SelectField label="Valid for" value={ttl} onChange={setTtl} options={LIFETIMES} />
        <Button type="submit" busy={action.busy === 'token'}>Issue token</Button>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}

function Thumbprints(props: { readonly device: Device; readonly onSaved: (device: Device) => void }) {
  const id = useId();
  const [text, setText] = useState(props.device.thumbprints.join('\n'));
  const action = useAction();
  useEffect(() => setText(props.device.thumbprints.join('\n')), [props.device.revision]);
  const submit = (event: Event) => {
    event.preventDefault();
    const thumbprints = [...new Set(text.split(/\s+/).map((t) => t.trim().toLowerCase().replaceAll(':', '')).filter((t) => t !== ''))];
    void action.run('thumbprints', async () => {
      props.onSaved(await api(() => client.PUT('/api/v1/devices/{id}/thumbprints', { params: { path: { id: props.device.id } }, body: { thumbprints } })));
    });
  };
  return (
    <form class="admin-panel" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Client certificates</h2>
      <div class="field">
        <label for={id}>SHA-256 thumbprints, one per line</label>
        <textarea id={id} rows={3} value={text} aria-describedby={`${id}-hint`} onInput={(event) => setText(event.currentTarget.value)} />
        <p class="hint" id={`${id}-hint`}>64 hexadecimal characters each (colons are removed). Up to 10. The device may then connect with any of these certificates.</p>
      </div>
      <ErrorNote error={action.error} />
      <Button type="submit" kind="secondary" busy={action.busy === 'thumbprints'}>Save thumbprints</Button>
    </form>
  );
}
