import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { BackLink, Badge, CheckGroup, ConfirmDialog, LoadFailed, NoticeLine, Pager, plural, problemsOf, SelectField, ShownOnce, subPath, Time, useAction, useLoaded, usePages, usePermission } from './common.tsx';
import { TableHead } from '../../ui/table.tsx';

// Webhook endpoints: the list, a new endpoint with its signing secret shown
// once, and one endpoint's page: its settings, enable or disable, a new
// secret, removal, and its delivery log (newest first, by status, with the
// payload as sent) where a delivered or failed delivery can be sent again.

type Endpoint = Ok<'/api/v1/webhooks', 'get'>['items'][number];
type Delivery = Ok<'/api/v1/webhooks/{id}/deliveries', 'get'>['items'][number];
type Created = Ok<'/api/v1/webhooks', 'post'>;

const WEBHOOKS = '/console/webhooks';
const PAGE_SIZE = 25;
const EVENTS = ['shipment.created', 'shipment.assigned', 'shipment.out_for_delivery', 'shipment.delivered', 'shipment.failed', 'shipment.returned'] as const;
type EventType = (typeof EVENTS)[number];
const EVENT_OPTIONS = EVENTS.map((e) => ({ value: e, label: e }));
const DELIVERY_STATUS: Record<Delivery['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  pending: { label: 'Pending', tone: 'warn' },
  delivered: { label: 'Delivered', tone: 'ok' },
  failed: { label: 'Failed', tone: 'bad' },
};

function chosenEvents(selected: readonly string[]): EventType[] {
  return EVENTS.filter((e) => selected.includes(e));
}

function EndpointStatus(props: { readonly status: Endpoint['status'] }) {
  return <Badge tone={props.status === 'enabled' ? 'ok' : 'bad'}>{props.status === 'enabled' ? 'Enabled' : 'Disabled'}</Badge>;
}

function SecretNote() {
  return (
    <p>
      The receiver checks each delivery’s <code>webhook-signature</code> header (Standard Webhooks, HMAC-SHA256) with this secret.
    </p>
  );
}

export default function WebhooksScreen() {
  const { path } = useLocation();
  const id = subPath(path, WEBHOOKS);
  return id === undefined ? <EndpointList /> : <EndpointPage id={id} />;
}

function EndpointList() {
  const canIssue = usePermission('webhook.secret.issue');
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<Created | undefined>(undefined);
  const pages = usePages<Endpoint>('all', (cursor) => api(() => client.GET('/api/v1/webhooks', { params: { query: { limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) } } })));
  return (
    <section aria-labelledby="webhooks-title">
      <div class="admin-head">
        <h1 id="webhooks-title">Webhooks</h1>
        {canIssue && !adding ? <Button onClick={() => { setAdding(true); setCreated(undefined); }}>Add endpoint</Button> : null}
      </div>
      <p class="admin-lead">Rampart sends shipment events to these addresses as signed JSON, retrying with back-off until the receiver answers 2xx.</p>
      {created === undefined ? null : (
        <ShownOnce title={`Signing secret of ${created.endpoint.name}`} secrets={[{ label: 'Signing secret', value: created.secret }]} onDone={() => setCreated(undefined)}>
          <SecretNote />
        </ShownOnce>
      )}
      {adding ? (
        <EndpointForm
          onCancel={() => setAdding(false)}
          onSaved={(result) => {
            setAdding(false);
            setCreated(result);
            pages.reload();
          }}
        />
      ) : null}
      <ErrorNote error={pages.error} />
      <p role="status" class="admin-summary">
        {pages.loading ? 'Loading endpoints…' : pages.error !== undefined ? '' : pages.items.length === 0 ? 'No webhook endpoints yet.' : `${plural(pages.items.length, 'endpoint', 'endpoints')} on page ${pages.pageNumber}.`}
      </p>
      {pages.items.length === 0 ? null : (
        <table class="data">
          <caption class="admin-sr-only">Webhook endpoints</caption>
          <TableHead columns={['Name', 'URL', 'Events', 'Status', 'Added']} />
          <tbody>
            {pages.items.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <a href={`${WEBHOOKS}/${encodeURIComponent(endpoint.id)}`}>{endpoint.name}</a>
                </td>
                <td class="admin-url">{endpoint.url}</td>
                <td>{endpoint.events.length === EVENTS.length ? 'All shipment events' : endpoint.events.join(', ')}</td>
                <td>
                  <EndpointStatus status={endpoint.status} />
                </td>
                <td>
                  <Time iso={endpoint.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Endpoint pages" pageNumber={pages.pageNumber} hasPrevious={pages.hasPrevious} hasNext={pages.hasNext} onPrevious={pages.previous} onNext={pages.next} />
    </section>
  );
}

/** A new endpoint (returns its secret), or changes to an existing one. */
function EndpointForm(props: { readonly endpoint?: Endpoint; readonly onCancel: () => void; readonly onSaved: (created: Created) => void; readonly onChanged?: (endpoint: Endpoint) => void }) {
  const existing = props.endpoint;
  const [name, setName] = useState(existing?.name ?? '');
  const [url, setUrl] = useState(existing?.url ?? 'https://');
  const [events, setEvents] = useState<string[]>(existing?.events ?? [...EVENTS]);
  const action = useAction();
  const problems = problemsOf(action.error);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('save', async () => {
      const body = { name: name.trim(), url: url.trim(), events: chosenEvents(events) };
      if (existing === undefined) props.onSaved(await api(() => client.POST('/api/v1/webhooks', { body })));
      else props.onChanged?.(await api(() => client.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: existing.id } }, body })));
    });
  };
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="endpoint-form-title">
      <h2 id="endpoint-form-title">{existing === undefined ? 'New endpoint' : 'Change endpoint'}</h2>
      <Field label="Name" value={name} onInput={setName} required autoFocus={existing === undefined} autoComplete="off" problem={problems['name']} />
      <Field label="URL" value={url} onInput={setUrl} required autoComplete="off" hint="https:// (plain http:// only to addresses the configuration allows); no user name or password." problem={problems['url']} />
      <CheckGroup legend="Events" options={EVENT_OPTIONS} selected={events} onChange={setEvents} hint="At least one." />
      {existing === undefined ? <p class="hint">Adding an endpoint issues its signing secret, so it asks for your second factor again.</p> : null}
      <ErrorNote error={action.error} />
      <div class="actions">
        <Button type="submit" busy={action.busy === 'save'}>{existing === undefined ? 'Add endpoint' : 'Save changes'}</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

type Pending = 'disable' | 'enable' | 'rotate' | 'delete' | { readonly retry: Delivery };

function EndpointPage(props: { readonly id: string }) {
  const { route } = useLocation();
  const canIssue = usePermission('webhook.secret.issue');
  const [endpoint, setEndpoint, loadError] = useLoaded(props.id, (id) => api(() => client.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })));
  const [editing, setEditing] = useState(false);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [status, setStatus] = useState('');
  const path = { params: { path: { id: props.id } } };
  const statusFilter = status === 'pending' || status === 'delivered' || status === 'failed' ? status : undefined;
  const deliveries = usePages<Delivery>(`${props.id}|${status}`, (cursor) =>
    api(() => client.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: props.id }, query: { limit: PAGE_SIZE, ...(statusFilter === undefined ? {} : { status: statusFilter }), ...(cursor === undefined ? {} : { cursor }) } } })),
  );

  if (loadError !== undefined) return <LoadFailed back={WEBHOOKS} backLabel="All endpoints" title="Webhook endpoint" error={loadError} />;
  if (endpoint === undefined) return <p class="loading" role="status">Loading the endpoint…</p>;

  const close = () => setPending(undefined);
  const dialog = (() => {
    if (pending === undefined) return null;
    if (typeof pending === 'object') {
      const delivery = pending.retry;
      return (
        <ConfirmDialog title={`Send ${delivery.eventType} again?`} confirmLabel="Send again" kind="primary" onClose={close} onConfirm={async () => {
          const next = await api(() => client.POST('/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry', { params: { path: { id: props.id, deliveryId: delivery.id } } }));
          deliveries.replace((d) => d.id === next.id, next);
          setNotice(`The delivery of ${next.eventType} is queued to be sent now.`);
        }}>
          <p>The same signed payload goes to {endpoint.url} now, as a new attempt. Receivers should treat a repeated <code>webhook-id</code> as the same event.</p>
        </ConfirmDialog>
      );
    }
    switch (pending) {
      case 'disable':
        return (
          <ConfirmDialog title={`Disable ${endpoint.name}?`} confirmLabel="Disable endpoint" onClose={close} onConfirm={async () => {
            setEndpoint(await api(() => client.PATCH('/api/v1/webhooks/{id}', { ...path, body: { status: 'disabled' } })));
            setNotice('The endpoint is disabled: nothing more is sent to it.');
          }}>
            <p>Nothing more is sent to it until it is enabled again. Its delivery log stays.</p>
          </ConfirmDialog>
        );
      case 'enable':
        return (
          <ConfirmDialog title={`Enable ${endpoint.name}?`} confirmLabel="Enable endpoint" kind="primary" onClose={close} onConfirm={async () => {
            setEndpoint(await api(() => client.PATCH('/api/v1/webhooks/{id}', { ...path, body: { status: 'enabled' } })));
            setNotice('The endpoint is enabled.');
          }}>
            <p>New shipment events are sent to it again.</p>
          </ConfirmDialog>
        );
      case 'rotate':
        return (
          <ConfirmDialog title={`Issue a new signing secret for ${endpoint.name}?`} confirmLabel="Issue new secret" onClose={close} onConfirm={async () => {
            const result = await api(() => client.POST('/api/v1/webhooks/{id}/rotate-secret', path));
            setEndpoint(result.endpoint);
            setSecret(result.secret);
          }}>
            <p>Deliveries are signed with the new secret from now on: the receiver refuses them until it has the new secret. This asks for your second factor again.</p>
          </ConfirmDialog>
        );
      case 'delete':
        return (
          <ConfirmDialog title={`Delete ${endpoint.name}?`} confirmLabel="Delete endpoint" onClose={close} onConfirm={async () => {
            await api(() => client.DELETE('/api/v1/webhooks/{id}', path));
            route(WEBHOOKS);
          }}>
            <p>The endpoint and its delivery log are deleted; pending deliveries are not sent. This cannot be undone.</p>
          </ConfirmDialog>
        );
    }
  })();

  const items = deliveries.items;
  return (
    <section aria-labelledby="endpoint-title">
      <BackLink href={WEBHOOKS}>All endpoints</BackLink>
      <h1 id="endpoint-title">{endpoint.name}</h1>
      <NoticeLine notice={notice} />
      {secret === undefined ? null : (
        <ShownOnce title={`New signing secret of ${endpoint.name}`} secrets={[{ label: 'Signing secret', value: secret }]} onDone={() => setSecret(undefined)}>
          <SecretNote />
        </ShownOnce>
      )}
      {editing ? (
        <EndpointForm
          endpoint={endpoint}
          onCancel={() => setEditing(false)}
          onSaved={() => setEditing(false)}
          onChanged={(next) => {
            setEndpoint(next);
            setEditing(false);
            setNotice('Changes saved.');
          }}
        />
      ) : (
        <dl class="facts">
          <dt>URL</dt>
          <dd class="admin-url">{endpoint.url}</dd>
          <dt>Events</dt>
          <dd>{endpoint.events.join(', ')}</dd>
          <dt>Status</dt>
          <dd>
            <EndpointStatus status={endpoint.status} />
          </dd>
          <dt>Added</dt>
          <dd>
            <Time iso={endpoint.createdAt} />
          </dd>
          <dt>Last changed</dt>
          <dd>
            <Time iso={endpoint.updatedAt} />
          </dd>
        </dl>
      )}
      {dialog}
      {editing ? null : (
        <div class="actions admin-panel-actions">
          <Button kind="secondary" onClick={() => setEditing(true)}>Change</Button>
          {endpoint.status === 'enabled' ? <Button kind="secondary" onClick={() => setPending('disable')}>Disable</Button> : <Button kind="secondary" onClick={() => setPending('enable')}>Enable</Button>}
          {canIssue ? <Button kind="danger" onClick={() => setPending('rotate')}>New signing secret</Button> : null}
          <Button kind="danger" onClick={() => setPending('delete')}>Delete</Button>
        </div>
      )}

      <h2>Deliveries</h2>
      <div class="toolbar">
        <SelectField label="Status" value={status} onChange={setStatus} options={[{ value: '', label: 'Any status' }, ...(Object.keys(DELIVERY_STATUS) as Delivery['status'][]).map((s) => ({ value: s, label: DELIVERY_STATUS[s].label }))]} />
        <Button kind="secondary" onClick={deliveries.reload}>Refresh</Button>
      </div>
      <ErrorNote error={deliveries.error} />
      <p role="status" class="admin-summary">
        {deliveries.loading ? 'Loading deliveries…' : deliveries.error !== undefined ? '' : items.length === 0 ? (status === '' ? 'Nothing has been sent to this endpoint yet.' : 'No deliveries match.') : `${plural(items.length, 'delivery', 'deliveries')} on page ${deliveries.pageNumber}, newest first.`}
      </p>
      {items.length === 0 ? null : (
        <table class="data">
          <caption class="admin-sr-only">Deliveries, newest first</caption>
          <TableHead columns={['Event', 'Status', 'Attempts', 'Last answer', 'Created', 'Next attempt', 'Payload']} actions />
          <tbody>
            {items.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  {delivery.eventType}
                  <br />
                  <code class="muted">{delivery.eventId}</code>
                </td>
                <td>
                  <Badge tone={DELIVERY_STATUS[delivery.status].tone}>{DELIVERY_STATUS[delivery.status].label}</Badge>
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  {delivery.lastStatusCode === null ? (delivery.lastError === null ? <span class="muted">—</span> : null) : `HTTP ${delivery.lastStatusCode}`}
                  {delivery.lastError === null ? null : <div class="admin-error-text">{delivery.lastError}</div>}
                  {delivery.lastAttemptAt === null ? null : (
                    <div class="muted">
                      <Time iso={delivery.lastAttemptAt} />
                    </div>
                  )}
                </td>
                <td>
                  <Time iso={delivery.createdAt} />
                </td>
                <td>
                  <Time iso={delivery.nextAttemptAt} />
                </td>
                <td class="admin-payload">
                  <details>
                    <summary>Show</summary>
                    <pre>{delivery.payload}</pre>
                  </details>
                </td>
                <td>
                  {delivery.status === 'pending' ? null : (
                    <Button kind="secondary" label={`Send ${delivery.eventType} of ${new Date(delivery.createdAt).toLocaleString('en-GB')} again`} onClick={() => setPending({ retry: delivery })}>
                      Send again
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Delivery pages" pageNumber={deliveries.pageNumber} hasPrevious={deliveries.hasPrevious} hasNext={deliveries.hasNext} onPrevious={deliveries.previous} onNext={deliveries.next} />
    </section>
  );
}
