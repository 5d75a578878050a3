import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, client } from '../../api/client.ts';
import type { Role } from '../../api/types.ts';
import { Button, ErrorNote, Field } from '../../ui/form.tsx';
import { CheckGroup, Pager, plural, problemsOf, SelectField, ShownOnce, subPath, Time, useAction, useDepots, usePages, usePermission } from './common.tsx';
import { depotsText, isRole, isStatus, ROLE_HINTS, ROLE_LABELS, ROLE_OPTIONS, STATUS, StatusBadge, USERS, type Issued, type User } from './user-common.tsx';
import { UserPage } from './user-page.tsx';
import { TableHead } from '../../ui/table.tsx';

// Accounts for an administrator: the list (search by username, filter by role
// and status, cursor pages) and a new account with its one-time setup code.
// One account's page (role, depots, sessions, disabling, resetting the second
// factors or the password) is user-page.tsx. Usernames can be personal, so
// the search stays out of the address. Every refusal is shown in the server's
// words.

const PAGE_SIZE = 25;

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
          <TableHead columns={['Username', 'Role', 'Status', 'Depots', 'Sign-in', 'Created']} />
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
