import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { Badge, CheckGroup, ConfirmDialog, NoticeLine, Pager, plural, problemsOf, ShownOnce, Time, useAction, usePages, type Secret } from './common.tsx';
import { TableHead } from '../../ui/table.tsx';

// Service principals: the integrations that call the API with an OAuth
// client-credentials token. The list, a new principal with its scopes (its
// client secret shown once), disabling and enabling, and a new secret. Every
// call here needs a recently proven second factor; the API client asks for it.

type Principal = Ok<'/api/v1/service-principals', 'get'>['items'][number];
type Scope = Principal['scopes'][number];
type Credentials = Ok<'/api/v1/service-principals', 'post'>;

const PAGE_SIZE = 25;
const SCOPES: Record<Scope, string> = {
  'telemetry.read': 'telemetry.read — read event hubs and device telemetry',
  'device.read': 'device.read — list devices and their status',
};

type Pending = { readonly action: 'disable' | 'enable' | 'rotate'; readonly principal: Principal };

export default function ServicePrincipalsScreen() {
  const [adding, setAdding] = useState(false);
  const [shown, setShown] = useState<{ title: string; secrets: Secret[] } | undefined>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const pages = usePages<Principal>('all', (cursor) => api(() => client.GET('/api/v1/service-principals', { params: { query: { limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) } } })));

  const issued = (credentials: Credentials, title: string) =>
    setShown({ title, secrets: [{ label: 'Client id', value: credentials.clientId }, { label: 'Client secret', value: credentials.clientSecret }] });

  const dialog = (() => {
    if (pending === undefined) return null;
    const { principal, action } = pending;
    const path = { params: { path: { id: principal.id } } };
    const close = () => setPending(undefined);
    switch (action) {
      case 'disable':
        return (
          <ConfirmDialog title={`Disable ${principal.name}?`} confirmLabel="Disable" onClose={close} onConfirm={async () => {
            const next = await api(() => client.POST('/api/v1/service-principals/{id}/disable', path));
            pages.replace((p) => p.id === next.id, next);
            setNotice(`${next.name} is disabled: its tokens no longer work.`);
          }}>
            <p>Its access tokens stop working at once and it gets no new ones until it is enabled again.</p>
          </ConfirmDialog>
        );
      case 'enable':
        return (
          <ConfirmDialog title={`Enable ${principal.name}?`} confirmLabel="Enable" kind="primary" onClose={close} onConfirm={async () => {
            const next = await api(() => client.POST('/api/v1/service-principals/{id}/enable', path));
            pages.replace((p) => p.id === next.id, next);
            setNotice(`${next.name} is enabled.`);
          }}>
            <p>It may get access tokens again with its current secret.</p>
          </ConfirmDialog>
        );
      case 'rotate':
        return (
          <ConfirmDialog title={`Issue a new secret for ${principal.name}?`} confirmLabel="Issue new secret" onClose={close} onConfirm={async () => {
            const credentials = await api(() => client.POST('/api/v1/service-principals/{id}/rotate-secret', path));
            pages.replace((p) => p.id === credentials.principal.id, credentials.principal);
            issued(credentials, `New secret for ${credentials.principal.name}`);
          }}>
            <p>The current secret and every token issued with it stop working at once: the integration is refused until it has the new secret.</p>
          </ConfirmDialog>
        );
    }
  })();

  return (
    <section aria-labelledby="sp-title">
      <div class="admin-head">
        <h1 id="sp-title">Service principals</h1>
        {adding ? null : <Button onClick={() => { setAdding(true); setShown(undefined); }}>Add service principal</Button>}
      </div>
      <p class="admin-lead">Integrations get short-lived access tokens from <code>POST /api/v1/oauth/token</code> (OAuth client credentials) with a client id and secret. They can do only what their scopes name.</p>
      <NoticeLine notice={notice} />
      {shown === undefined ? null : <ShownOnce title={shown.title} secrets={shown.secrets} onDone={() => setShown(undefined)} />}
      {adding ? (
        <NewPrincipal
          onCancel={() => setAdding(false)}
          onCreated={(credentials) => {
            setAdding(false);
            issued(credentials, `Credentials of ${credentials.principal.name}`);
            pages.reload();
          }}
        />
      ) : null}
      {dialog}
      <ErrorNote error={pages.error} />
      <p role="status" class="admin-summary">
        {pages.loading ? 'Loading service principals…' : pages.error !== undefined ? '' : pages.items.length === 0 ? 'No service principals yet.' : `${plural(pages.items.length, 'service principal', 'service principals')} on page ${pages.pageNumber}.`}
      </p>
      {pages.items.length === 0 ? null : (
        <table class="data">
          <caption class="admin-sr-only">Service principals</caption>
          <TableHead columns={['Name', 'Client id', 'Scopes', 'Status', 'Created']} actions />
          <tbody>
            {pages.items.map((principal) => (
              <tr key={principal.id}>
                <td>{principal.name}</td>
                <td>
                  <code>{principal.clientId}</code>
                </td>
                <td>{principal.scopes.join(', ')}</td>
                <td>
                  <Badge tone={principal.status === 'active' ? 'ok' : 'bad'}>{principal.status === 'active' ? 'Active' : 'Disabled'}</Badge>
                </td>
                <td>
                  <Time iso={principal.createdAt} />
                </td>
                <td class="admin-row-actions">
                  {principal.status === 'active' ? (
                    <Button kind="secondary" label={`Disable ${principal.name}`} onClick={() => setPending({ action: 'disable', principal })}>Disable</Button>
                  ) : (
                    <Button kind="secondary" label={`Enable ${principal.name}`} onClick={() => setPending({ action: 'enable', principal })}>Enable</Button>
                  )}
                  <Button kind="secondary" label={`New secret for ${principal.name}`} onClick={() => setPending({ action: 'rotate', principal })}>New secret</Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="Service principal pages" pageNumber={pages.pageNumber} hasPrevious={pages.hasPrevious} hasNext={pages.hasNext} onPrevious={pages.previous} onNext={pages.next} />
    </section>
  );
}

function NewPrincipal(props: { readonly onCancel: () => void; readonly onCreated: (credentials: Credentials) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['telemetry.read']);
  const action = useAction();
  const problems = problemsOf(action.error);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('create', async () => {
      const chosen = (Object.keys(SCOPES) as Scope[]).filter((s) => scopes.includes(s));
      props.onCreated(await api(() => client.POST('/api/v1/service-principals', { body: { name: name.trim(), scopes: chosen } })));
    });
  };
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="new-sp-title">
      <h2 id="new-sp-title">New service principal</h2>
      <Field label="Name" value={name} onInput={setName} required autoFocus autoComplete="off" hint="2–64 characters: a–z, 0–9, “.”, “_” and “-”, starting with a letter (for example billing-sync)." problem={problems['name']} />
      <CheckGroup legend="Scopes" options={(Object.keys(SCOPES) as Scope[]).map((s) => ({ value: s, label: SCOPES[s] }))} selected={scopes} onChange={setScopes} hint="At least one. Only these scopes can be granted to an integration." />
      <ErrorNote error={action.error} />
      <div class="actions">
        <Button type="submit" busy={action.busy === 'create'}>Create</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
