import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Role } from '../../api/types.ts';
import { Button } from '../../ui/form.tsx';
import { useSession } from '../session.ts';
import { BackLink, ConfirmDialog, LoadFailed, NoticeLine, SelectField, ShownOnce, Time, useDepots, useLoaded, usePermission } from './common.tsx';
import { depotsText, isRole, ROLE_HINTS, ROLE_LABELS, ROLE_OPTIONS, StatusBadge, USERS, type Issued, type User } from './user-common.tsx';
import { UserDepots } from './user-depots.tsx';
import { UserSessions } from './user-sessions.tsx';

// One account's page (/console/users/{id}): what it is, its role, the depots
// of a dispatcher (user-depots.tsx), its sessions (user-sessions.tsx), and
// disabling it or resetting its second factors or password. Each change asks
// first; sensitive ones ask for the second factor again (the API client opens
// that prompt). A reset password's new setup code is shown once.

type Pending = 'role' | 'disable' | 'enable' | 'reset-mfa' | 'reset-password';

export function UserPage(props: { readonly id: string }) {
  const { session } = useSession();
  const canManage = usePermission('user.manage');
  const canAssign = usePermission('user.role.assign');
  const canReset = usePermission('user.mfa.reset');
  const canSessions = usePermission('session.manage');
  const [role, setRole] = useState<Role>('dispatcher');
  const [user, setUser, loadError] = useLoaded(props.id, async (id) => {
    const loaded = await api(() => client.GET('/api/v1/users/{id}', { params: { path: { id } } }));
    setRole(loaded.role);
    return loaded;
  });
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [issued, setIssued] = useState<Issued | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [version, setVersion] = useState(0);
  const say = (message: string) => {
    setNotice(message);
    setVersion((v) => v + 1);
  };
  const depotList = useDepots();
  const self = session?.account.id === props.id;

  const changed = (next: User, message: string) => {
    setUser(next);
    setRole(next.role);
    say(message);
  };
  const path = { params: { path: { id: props.id } } };

  if (loadError !== undefined) return <LoadFailed back={USERS} backLabel="All users" title="User" error={loadError} />;
  if (user === undefined) return <p class="loading" role="status">Loading the account…</p>;

  const confirm = (() => {
    if (pending === undefined) return null;
    const close = () => setPending(undefined);
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
    }
  })();

  return (
    <section aria-labelledby="user-title">
      <BackLink href={USERS}>All users</BackLink>
      <h1 id="user-title">
        {user.username} {self ? <span class="muted">(you)</span> : null}
      </h1>
      <NoticeLine notice={notice} />
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

      {canManage && user.role === 'dispatcher' ? <UserDepots user={user} depotList={depotList} onChanged={changed} /> : null}

      {canSessions ? <UserSessions id={props.id} username={user.username} self={self} refresh={version} onEnded={say} /> : null}

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
