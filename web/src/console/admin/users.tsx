import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Ok, Role } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { useSession } from '../session.ts';
import { BackLink, Badge, CheckGroup, ConfirmDialog, Pager, plural, problemsOf, SelectField, ShownOnce, subPath, Time, useAction, usePages, usePermission, type Option } from './common.tsx';

// Accounts for an administrator: the list (search by username, filter by role
// and status, cursor pages), a new account and its one-time setup code, and
// one account's page: role, depots, sessions, disabling, resetting the second
// factors or the password. Usernames can be personal, so the search stays out
// of the address. Sensitive changes ask for the second factor again (the API
// client opens that prompt); every refusal is shown in the server's words.

export type User = Ok<'/api/v1/users', 'get'>['items'][number];
type Issued = Ok<'/api/v1/users', 'post'>;
type Depot = Ok<'/api/v1/depots', 'get'>['items'][number];
type Session = Ok<'/api/v1/users/{id}/sessions', 'get'>['items'][number];

const USERS = '/console/users';
const PAGE_SIZE = 25;

export const ROLE_LABELS: Record<Role, string> = { admin: 'Administrator', dispatcher: 'Dispatcher', driver: 'Driver', auditor: 'Auditor' };
const ROLE_OPTIONS: Option[] = (Object.keys(ROLE_LABELS) as Role[]).map((role) => ({ value: role, label: ROLE_LABELS[role] }));
const STATUS: Record<User['status'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  active: { label: 'Active', tone: 'ok' },
  setup_required: { label: 'Awaiting setup', tone: 'warn' },
  disabled: { label: 'Disabled', tone: 'bad' },
};

function isRole(value: string): value is Role {
  return value in ROLE_LABELS;
}

function isStatus(value: string): value is User['status'] {
  return value in STATUS;
}

export function StatusBadge(props: { readonly status: User['status'] }) {
  const look = STATUS[props.status];
  return <Badge tone={look.tone}>{look.label}</Badge>;
}

function depotsText(depots: readonly string[] | null): string {
  return depots === null ? 'All depots' : depots.length === 0 ? 'No depot' : depots.join(', ');
}

/** Depots to choose from; undefined while loading, null when they cannot be listed. */
function useDepots(): readonly Depot[] | null | undefined {
  const [depots, setDepots] = useState<readonly Depot[] | null | undefined>(undefined);
  useEffect(() => {
    api(() => client.GET('/api/v1/depots', { params: { query: { limit: 100 } } }))
      .then((page) => setDepots(page.items))
      .catch(() => setDepots(null));
  }, []);
  return depots;
}

export default function UsersScreen() {
  const { path } = useLocation();
  const id = subPath(path, USERS);
  return id === undefined ? <UserList /> : <UserPage id={id} />;
}

function UserList() {
  const canManage = usePermission('user.manage');
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const [role, setRole] = useState('');
  const [status, setStatus] = useState('');
  const [adding, setAdding] = useState(false);
  const [issued, setIssued] = useState<Issued | undefined>(undefined);
  const key = JSON.stringify([q, role, status]);
  const pages = usePages<User>(key, (cursor) =>
    api(() =>
      client.GET('/api/v1/users', {
        params: { query: { limit: PAGE_SIZE, ...(q === '' ? {} : { q }), ...(isRole(role) ? { role } : {}), ...(isStatus(status) ? { status } : {}), ...(cursor === undefined ? {} : { cursor }) } },
      }),
    ),
  );
  const filtered = q !== '' || role !== '' || status !== '';

  return (
    <section aria-labelledby="users-title">
      <div class="admin-head">
        <h1 id="users-title">Users</h1>
        {canManage && !adding ? <Button onClick={() => { setAdding(true); setIssued(undefined); }}>Add user</Button> : null}
      </div>
      {issued === undefined ? null : (
        <ShownOnce title={`Setup code for ${issued.user.username}`} secrets={[{ label: 'Setup code', value: issued.setupCode }]} onDone={() => setIssued(undefined)}>
          <p>
            Give it to {issued.user.username} through a channel you trust. They enter it with their username at <code>/console/setup</code> to choose a password and enrol a second factor. It works once and expires <Time iso={issued.setupCodeExpiresAt} />.
          </p>
        </ShownOnce>
      )}
      {adding ? (
        <NewUser
          onCancel={() => setAdding(false)}
          onCreated={(result) => {
            setAdding(false);
            setIssued(result);
            pages.reload();
          }}
        />
      ) : null}
      <form
        class="toolbar"
        role="search"
        aria-label="Find users"
        onSubmit={(event) => {
          event.preventDefault();
          setQ(draft.trim());
        }}
      >
        <Field label="Username contains" type="search" value={draft} onInput={setDraft} name="q" />
        <SelectField label="Role" value={role} onChange={setRole} options={[{ value: '', label: 'Any role' }, ...ROLE_OPTIONS]} />
        <SelectField label="Status" value={status} onChange={setStatus} options={[{ value: '', label: 'Any status' }, ...(Object.keys(STATUS) as User['status'][]).map((s) => ({ value: s, label: STATUS[s].label }))]} />
        <Button type="submit" kind="secondary">Search</Button>
      </form>
      <ErrorNote error={pages.error} />
      <p role="status" class="admin-summary">
        {pages.loading ? 'Loading users…' : pages.error !== undefined ? '' : pages.items.length === 0 ? (filtered ? 'No users match.' : 'No users yet.') : `${plural(pages.items.length, 'user', 'users')} on page ${pages.pageNumber}, by username.`}
      </p>
      {pages.items.length === 0 ? null : (
        <table class="data">
          <caption class="admin-sr-only">Users, by username</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Depots</th>
              <th scope="col">Sign-in</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((user) => (
              <tr key={user.id}>
                <td>
                  <a href={`${USERS}/${encodeURIComponent(user.id)}`}>{user.username}</a>
                </td>
                <td>{ROLE_LABELS[user.role]}</td>
                <td>
                  <StatusBadge status={user.status} />
                </td>
                <td>{user.role === 'dispatcher' ? depotsText(user.depots) : <span class="muted">—</span>}</td>
                <td>{user.sso ? 'Single sign-on' : user.passwordDisabled ? 'Password locked' : 'Password + second factor'}</td>
                <td>
                  <Time iso={user.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager label="User pages" pageNumber={pages.pageNumber} hasPrevious={pages.hasPrevious} hasNext={pages.hasNext} onPrevious={pages.previous} onNext={pages.next} />
    </section>
  );
}

function NewUser(props: { readonly onCancel: () => void; readonly onCreated: (issued: Issued) => void }) {
  const depotList = useDepots();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('dispatcher');
  const [depots, setDepots] = useState<string[]>([]);
  const action = useAction();
  const problems = problemsOf(action.error);
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run('create', async () => {
      const body = { username: username.trim().toLowerCase(), role, ...(role === 'dispatcher' && depots.length > 0 ? { depots } : {}) };
      props.onCreated(await api(() => client.POST('/api/v1/users', { body })));
    });
  };
  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <Field label="Username" value={username} onInput={setUsername} required autoFocus autoComplete="off" hint="2–64 characters: a–z, 0–9, “.”, “_” and “-”, starting with a letter." problem={problems['username']} />
      <SelectField label="Role" value={role} onChange={(value) => { if (isRole(value)) setRole(value); }} options={ROLE_OPTIONS} hint={ROLE_HINTS[role]} />
      {role !== 'dispatcher' ? null : depotList === undefined ? (
        <p class="muted" role="status">Loading depots…</p>
      ) : depotList === null || depotList.length === 0 ? (
        <p class="hint">{depotList === null ? 'Depots could not be listed; ' : 'No depots yet; '}the dispatcher will work with all depots (change it later on their page).</p>
      ) : (
        <CheckGroup legend="Depots" options={depotList.map((d) => ({ value: d.id, label: `${d.name} (${d.id})` }))} selected={depots} onChange={setDepots} hint="Leave all unticked for every depot." />
      )}
      <ErrorNote error={action.error} />
      <div class="actions">
        <Button type="submit" busy={action.busy === 'create'}>Create user</Button>
        <Button kind="secondary" onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

const ROLE_HINTS: Record<Role, string> = {
  admin: 'Manages accounts, devices, keys and integrations. Does not read the audit trail.',
  dispatcher: 'Plans routes and works with shipments, within their depots.',
  driver: 'Sees and delivers their own routes in the driver app.',
  auditor: 'Reads the audit trail and receipts; changes nothing.',
};

type Pending = 'role' | 'disable' | 'enable' | 'reset-mfa' | 'reset-password' | 'end-sessions' | { readonly session: Session };

function UserPage(props: { readonly id: string }) {
  const { session } = useSession();
  const canManage = usePermission('user.manage');
  const canAssign = usePermission('user.role.assign');
  const canReset = usePermission('user.mfa.reset');
  const canSessions = usePermission('session.manage');
  const [user, setUser] = useState<User | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [role, setRole] = useState<Role>('dispatcher');
  const [depots, setDepots] = useState<string[] | null>(null);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [issued, setIssued] = useState<Issued | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [version, setVersion] = useState(0);
  const say = (message: string) => {
    setNotice(message);
    setVersion((v) => v + 1);
  };
  const depotAction = useAction();
  const depotList = useDepots();
  const self = session?.account.id === props.id;

  useEffect(() => {
    setUser(undefined);
    setLoadError(undefined);
    api(() => client.GET('/api/v1/users/{id}', { params: { path: { id: props.id } } }))
      .then((loaded) => {
        setUser(loaded);
        setRole(loaded.role);
        setDepots(loaded.depots);
      })
      .catch(setLoadError);
  }, [props.id]);

  const changed = (next: User, message: string) => {
    setUser(next);
    setRole(next.role);
    setDepots(next.depots);
    say(message);
  };
  const path = { params: { path: { id: props.id } } };

  if (loadError !== undefined) {
    return (
      <section aria-labelledby="user-title">
        <BackLink href={USERS}>All users</BackLink>
        <h1 id="user-title">User</h1>
        <ErrorNote error={loadError} />
      </section>
    );
  }
  if (user === undefined) return <p class="loading" role="status">Loading the account…</p>;

  const confirm = (() => {
    if (pending === undefined) return null;
    const close = () => setPending(undefined);
    if (typeof pending === 'object') {
      return (
        <ConfirmDialog title="End this session?" confirmLabel="End session" onClose={close} onConfirm={async () => {
          await api(() => client.DELETE('/api/v1/users/{id}/sessions/{sessionId}', { params: { path: { id: props.id, sessionId: pending.session.id } } }));
          say('The session was ended.');
        }}>
          <p>The browser at {pending.session.sourceIp} ({pending.session.userAgent || 'unknown browser'}) is signed out at once.</p>
        </ConfirmDialog>
      );
    }
    switch (pending) {
      case 'role':
        return (
          <ConfirmDialog title={`Make ${user.username} ${ROLE_LABELS[role].toLowerCase()}?`} confirmLabel="Change role" kind="primary" onClose={close} onConfirm={async () => {
            changed(await api(() => client.PUT('/api/v1/users/{id}/role', { ...path, body: { role } })), `${user.username} is now ${ROLE_LABELS[role].toLowerCase()}; their sessions ended.`);
          }}>
            <p>{ROLE_HINTS[role]}</p>
            <p>Every session of {user.username} ends: they sign in again with the new role.</p>
          </ConfirmDialog>
        );
      case 'disable':
        return (
          <ConfirmDialog title={`Disable ${user.username}?`} confirmLabel="Disable account" onClose={close} onConfirm={async () => {
            changed(await api(() => client.POST('/api/v1/users/{id}/disable', path)), `${user.username} is disabled; their sessions ended.`);
          }}>
            <p>They are signed out everywhere and cannot sign in until the account is enabled again. Nothing of theirs is deleted.</p>
          </ConfirmDialog>
        );
      case 'enable':
        return (
          <ConfirmDialog title={`Enable ${user.username}?`} confirmLabel="Enable account" kind="primary" onClose={close} onConfirm={async () => {
            changed(await api(() => client.POST('/api/v1/users/{id}/enable', path)), `${user.username} is enabled.`);
          }}>
            <p>They can sign in again with their password and second factor (or set up again if they had none).</p>
          </ConfirmDialog>
        );
      case 'reset-mfa':
        return (
          <ConfirmDialog title={`Reset the second factors of ${user.username}?`} confirmLabel="Reset second factors" onClose={close} onConfirm={async () => {
            changed(await api(() => client.POST('/api/v1/users/{id}/reset-mfa', path)), `The second factors of ${user.username} are removed; they enrol again at their next sign-in.`);
          }}>
            <p>Their authenticator app, passkeys and recovery codes are removed and their sessions end. At their next sign-in they enrol a new second factor. Do this only once you are sure who asked for it.</p>
          </ConfirmDialog>
        );
      case 'reset-password':
        return (
          <ConfirmDialog title={`Reset the password of ${user.username}?`} confirmLabel="Reset password" onClose={close} onConfirm={async () => {
            const result = await api(() => client.POST('/api/v1/users/{id}/reset-password', path));
            changed(result.user, '');
            setIssued(result);
          }}>
            <p>Their password is cleared and their sessions end. You get a new one-time setup code to give them; with it they choose a new password.</p>
          </ConfirmDialog>
        );
      case 'end-sessions':
        return (
          <ConfirmDialog title={`Sign ${user.username} out everywhere?`} confirmLabel="End all sessions" onClose={close} onConfirm={async () => {
            const { ended } = await api(() => client.DELETE('/api/v1/users/{id}/sessions', path));
            say(`${plural(ended, 'session', 'sessions')} ended.`);
          }}>
            <p>Every browser signed in as {user.username} is signed out at once{self ? ', this one included' : ''}.</p>
          </ConfirmDialog>
        );
    }
  })();

  return (
    <section aria-labelledby="user-title">
      <BackLink href={USERS}>All users</BackLink>
      <h1 id="user-title">
        {user.username} {self ? <span class="muted">(you)</span> : null}
      </h1>
      <p role="status" class="admin-notice-line">{notice === '' ? null : <span class="notice admin-inline-notice">{notice}</span>}</p>
      {issued === undefined ? null : (
        <ShownOnce title={`New setup code for ${issued.user.username}`} secrets={[{ label: 'Setup code', value: issued.setupCode }]} onDone={() => setIssued(undefined)}>
          <p>They enter it with their username at <code>/console/setup</code> to choose a new password. It works once and expires <Time iso={issued.setupCodeExpiresAt} />.</p>
        </ShownOnce>
      )}
      <dl class="facts">
        <dt>Role</dt>
        <dd>{ROLE_LABELS[user.role]}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={user.status} />
        </dd>
        {user.role === 'dispatcher' ? (
          <>
            <dt>Depots</dt>
            <dd>{depotsText(user.depots)}</dd>
          </>
        ) : null}
        <dt>Sign-in</dt>
        <dd>{user.sso ? 'Single sign-on' : user.passwordDisabled ? 'Password locked after repeated failures (reset it to unlock)' : 'Password and second factor'}</dd>
        <dt>Account id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={user.createdAt} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Time iso={user.updatedAt} />
        </dd>
      </dl>

      {confirm}

      {canAssign ? (
        <div class="admin-panel">
          <h2>Role</h2>
          <form
            class="toolbar"
            onSubmit={(event) => {
              event.preventDefault();
              if (role !== user.role) setPending('role');
            }}
          >
            <SelectField label="New role" value={role} onChange={(value) => { if (isRole(value)) setRole(value); }} options={ROLE_OPTIONS} />
            <Button type="submit" disabled={role === user.role}>Change role</Button>
          </form>
          <p class="hint">Changing a role asks for your second factor again and ends the account’s sessions.</p>
        </div>
      ) : null}

      {canManage && user.role === 'dispatcher' ? (
        <div class="admin-panel">
          <h2>Depots</h2>
          {depotList === undefined ? (
            <p class="muted">Loading depots…</p>
          ) : depotList === null || depotList.length === 0 ? (
            <p class="hint">{depotList === null ? 'Depots could not be listed.' : 'No depots yet.'} The dispatcher works with {depotsText(user.depots).toLowerCase()}.</p>
          ) : (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                void depotAction.run('depots', async () => {
                  const chosen = depots === null || depots.length === 0 ? null : depots;
                  changed(await api(() => client.PUT('/api/v1/users/{id}/depots', { ...path, body: { depots: chosen } })), chosen === null ? `${user.username} now works with all depots.` : `${user.username} now works with ${chosen.join(', ')}.`);
                });
              }}
            >
              <CheckGroup legend="Depots this dispatcher works with" options={depotList.map((d) => ({ value: d.id, label: `${d.name} (${d.id})` }))} selected={depots ?? []} onChange={(next) => setDepots(next)} hint="Leave all unticked for every depot." />
              <ErrorNote error={depotAction.error} />
              <Button type="submit" busy={depotAction.busy === 'depots'}>Save depots</Button>
            </form>
          )}
        </div>
      ) : null}

      {canSessions ? <Sessions id={props.id} onEndOne={(s) => setPending({ session: s })} onEndAll={() => setPending('end-sessions')} refresh={version} /> : null}

      {canManage || canReset ? (
        <div class="admin-panel">
          <h2>Account</h2>
          <div class="admin-actions-list">
            {canManage ? (
              user.status === 'disabled' ? (
                <div>
                  <Button kind="secondary" onClick={() => setPending('enable')}>Enable account</Button>
                  <p class="hint">Lets them sign in again.</p>
                </div>
              ) : (
                <div>
                  <Button kind="danger" disabled={self} onClick={() => setPending('disable')}>Disable account</Button>
                  <p class="hint">{self ? 'You cannot disable your own account.' : 'Signs them out everywhere and stops sign-in.'}</p>
                </div>
              )
            ) : null}
            {canReset ? (
              <>
                <div>
                  <Button kind="danger" disabled={user.sso} onClick={() => setPending('reset-password')}>Reset password</Button>
                  <p class="hint">{user.sso ? 'This account signs in through single sign-on.' : 'Clears the password and gives you a new setup code.'}</p>
                </div>
                <div>
                  <Button kind="danger" onClick={() => setPending('reset-mfa')}>Reset second factors</Button>
                  <p class="hint">Removes the authenticator app, passkeys and recovery codes.</p>
                </div>
              </>
            ) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}

function Sessions(props: { readonly id: string; readonly onEndOne: (session: Session) => void; readonly onEndAll: () => void; readonly refresh: number }) {
  const [items, setItems] = useState<readonly Session[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    api(() => client.GET('/api/v1/users/{id}/sessions', { params: { path: { id: props.id } } }))
      .then((loaded) => {
        setItems(loaded.items);
        setError(undefined);
      })
      .catch(setError);
  }, [props.id, props.refresh]);
  return (
    <div class="admin-panel">
      <h2>Sessions</h2>
      <ErrorNote error={error} />
      {items === undefined ? (
        error === undefined ? <p class="muted" role="status">Loading sessions…</p> : null
      ) : items.length === 0 ? (
        <p>No one is signed in as this account.</p>
      ) : (
        <>
          <table class="data">
            <caption class="admin-sr-only">Live sessions</caption>
            <thead>
              <tr>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                <th scope="col">From</th>
                <th scope="col">Browser</th>
                <th scope="col">Method</th>
                <th scope="col">
                  <span class="admin-sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Time iso={s.createdAt} />
                  </td>
                  <td>
                    <Time iso={s.lastSeenAt} />
                  </td>
                  <td>{s.sourceIp}</td>
                  <td class="admin-ua">{s.userAgent || '—'}</td>
                  <td>
                    {s.authMethod}
                    {s.mfaMethod === null ? '' : ` + ${s.mfaMethod}`}
                    {s.current ? <> <Badge>this browser</Badge></> : null}
                  </td>
                  <td>
                    <Button kind="secondary" label={`End the session from ${s.sourceIp} started ${new Date(s.createdAt).toLocaleString('en-GB')}`} onClick={() => props.onEndOne(s)}>End</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Button kind="danger" onClick={props.onEndAll}>End all sessions</Button>
        </>
      )}
    </div>
  );
}
