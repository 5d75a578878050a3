import type { ComponentChildren } from 'preact';

/**
 * A data table's header row: one column header per entry, and with `actions`
 * a last column for the row's buttons, named for screen readers only.
 */
export function TableHead(props: { readonly columns: readonly ComponentChildren[]; readonly actions?: boolean }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column, i) => (
          <th key={i} scope="col">
            {column}
          </th>
        ))}
        {props.actions === true ? (
          <th scope="col">
            <span class="admin-sr-only">Actions</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}
