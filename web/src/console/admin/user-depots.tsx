import { useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';
import { CheckGroup, useAction, type Depot } from './common.tsx';
import { depotsText, type User } from './user-common.tsx';

// The depots a dispatcher works with, on their page: ticked depots limit
// them to those; none ticked means every depot. The ticks start again from
// the account whenever the page has a newer copy of it.

export function UserDepots(props: { readonly user: User; readonly depotList: readonly Depot[] | null | undefined; readonly onChanged: (next: User, message: string) => void }) {
  const { user, depotList } = props;
  const [draft, setDraft] = useState<{ readonly user: User; readonly depots: string[] | null }>({ user, depots: user.depots });
  const depots = draft.user === user ? draft.depots : user.depots;
  const action = useAction();
  return (
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
            void action.run('depots', async () => {
              const chosen = depots === null || depots.length === 0 ? null : depots;
              props.onChanged(await api(() => client.PUT('/api/v1/users/{id}/depots', { params: { path: { id: user.id } }, body: { depots: chosen } })), chosen === null ? `${user.username} now works with all depots.` : `${user.username} now works with ${chosen.join(', ')}.`);
            });
          }}
        >
          <CheckGroup legend="Depots this dispatcher works with" options={depotList.map((d) => ({ value: d.id, label: `${d.name} (${d.id})` }))} selected={depots ?? []} onChange={(next) => setDraft({ user, depots: next })} hint="Leave all unticked for every depot." />
          <ErrorNote error={action.error} />
          <Button type="submit" busy={action.busy === 'depots'}>Save depots</Button>
        </form>
      )}
    </div>
  );
}
