// Small pieces the audit screens share: times and counts in words, and a
// datetime-local field (the shared Field has no such type).

import { useId } from 'preact/hooks';

export { count, plural, Time } from '../../ui/format.tsx';

/** An ISO instant as the value of a datetime-local input (the browser's time zone); '' when unreadable. */
export function isoToLocalInput(iso: string | undefined): string {
  if (iso === undefined || iso === '') return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19).replace(/:00$/, '');
}

/** A datetime-local value (the browser's time zone) as an ISO instant; undefined when empty or unreadable. */
export function localInputToIso(value: string): string | undefined {
  if (value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function DateTimeField(props: { readonly label: string; readonly value: string; readonly onInput: (value: string) => void; readonly name?: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input id={id} name={props.name} type="datetime-local" step={1} value={props.value} onInput={(event) => props.onInput(event.currentTarget.value)} />
    </div>
  );
}
