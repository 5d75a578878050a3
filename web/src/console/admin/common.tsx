import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, client } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { Button, ErrorNote } from '../../ui/form.tsx';

// What the administration screens share: times and counts in words, secrets
// shown once (held only in the component's memory, never stored, with a copy
// button), a confirmation dialog for destructive or sensitive actions, the
// notice line a page's changes are announced in, cursor pages walked forwards
// and back (web/src/ui/pages.tsx), the depots to choose from, and a select
// with a real label.

export { count, plural, Time } from '../../ui/format.tsx';
export { Pager, usePages, type Page } from '../../ui/pages.tsx';
export { usePermission } from '../session.ts';

export type Depot = Ok<'/api/v1/depots', 'get'>['items'][number];

export function Badge(props: { readonly tone?: 'ok' | 'warn' | 'bad' | ''; readonly children: ComponentChildren }) {
  return <span class={`badge ${props.tone ?? ''}`}>{props.children}</span>;
}

/** Runs one action at a time for a screen: busy while it runs, its refusal kept for <ErrorNote>. */
export function useAction() {
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (name: string, action: () => Promise<void>): Promise<boolean> => {
    setBusy(name);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(undefined);
    }
  };
  /** `fail` shows a refusal that came from outside `run` (a file that could not be read, say). */
  return { busy, error, run, clear: () => setError(undefined), fail: (failure: unknown) => setError(failure) };
}

export function CopyButton(props: { readonly value: string; readonly label: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>(undefined);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <span class="admin-copy">
      <button type="button" class="button secondary" aria-label={props.label} onClick={() => void copy()}>
        Copy
      </button>
      <span role="status" class="admin-copy-status">
        {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the text and copy it yourself' : ''}
      </span>
    </span>
  );
}

export interface Secret {
  readonly label: string;
  readonly value: string;
}

/**
 * A secret the server returned once. It lives in this component's state
 * only: leaving the page, reloading or pressing Done forgets it.
 */
export function ShownOnce(props: { readonly title: string; readonly secrets: readonly Secret[]; readonly children?: ComponentChildren; readonly onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <section class="admin-once" aria-labelledby={id}>
      <h2 id={id} ref={heading} tabIndex={-1}>{props.title}</h2>
      <p class="admin-once-note">
        <strong>Shown only now.</strong> Rampart keeps no readable copy to show again: copy it to where it is needed before you leave this page.
      </p>
      {props.children}
      <dl class="admin-once-values">
        {props.secrets.map((secret) => (
          <div key={secret.label} class="admin-once-value">
            <dt>{secret.label}</dt>
            <dd>
              <code class="secret" data-testid="secret-value">{secret.value}</code>
              <CopyButton value={secret.value} label={`Copy ${secret.label.toLowerCase()}`} />
            </dd>
          </div>
        ))}
      </dl>
      <Button kind="secondary" onClick={props.onDone}>Done, I have copied it</Button>
    </section>
  );
}

/**
 * A modal confirmation: what will happen, in words, and one button that does
 * it. Esc or Cancel closes it without acting; a refusal stays in the dialog.
 */
export function ConfirmDialog(props: {
  readonly title: string;
  readonly confirmLabel: string;
  readonly kind?: 'danger' | 'primary';
  readonly children: ComponentChildren;
  readonly onConfirm: () => Promise<void>;
  readonly onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={dialog}
      class="admin-dialog"
      aria-labelledby={id}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) props.onClose();
      }}
    >
      <h2 id={id}>{props.title}</h2>
      <div class="admin-dialog-body">{props.children}</div>
      <ErrorNote error={error} />
      <div class="actions">
        <Button kind={props.kind ?? 'danger'} busy={busy} onClick={() => void confirm()}>{props.confirmLabel}</Button>
        <Button kind="secondary" disabled={busy} onClick={props.onClose}>Cancel</Button>
      </div>
    </dialog>
  );
}

/** The line a page announces its last change in (empty until there is one). */
export function NoticeLine(props: { readonly notice: string }) {
  return <p role="status" class="admin-notice-line">{props.notice === '' ? null : <span class="notice admin-inline-notice">{props.notice}</span>}</p>;
}

/** Depots to choose from (the first 100); undefined while loading, null when they cannot be listed. */
export function useDepots(): readonly Depot[] | null | undefined {
  const [depots, setDepots] = useState<readonly Depot[] | null | undefined>(undefined);
  useEffect(() => {
    api(() => client.GET('/api/v1/depots', { params: { query: { limit: 100 } } }))
      .then((page) => setDepots(page.items))
      .catch(() => setDepots(null));
  }, []);
  return depots;
}

export interface Option {
  readonly value: string;
  readonly label: string;
}

export function SelectField(props: { readonly label: string; readonly value: string; readonly options: readonly Option[]; readonly onChange: (value: string) => void; readonly hint?: string; readonly name?: string; readonly disabled?: boolean }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} disabled={props.disabled} aria-describedby={props.hint === undefined ? undefined : `${id}-hint`} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>{option.label}</option>
        ))}
      </select>
      {props.hint === undefined ? null : <p class="hint" id={`${id}-hint`}>{props.hint}</p>}
    </div>
  );
}

export function NumberField(props: { readonly label: string; readonly value: string; readonly onInput: (value: string) => void; readonly min: number; readonly max: number; readonly hint?: string; readonly problem?: string | undefined; readonly required?: boolean }) {
  const id = useId();
  const described = props.problem !== undefined ? `${id}-problem` : props.hint === undefined ? undefined : `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input id={id} type="number" inputMode="numeric" min={props.min} max={props.max} step={1} value={props.value} required={props.required} aria-invalid={props.problem === undefined ? undefined : true} aria-describedby={described} onInput={(event) => props.onInput(event.currentTarget.value)} />
      {props.hint !== undefined && props.problem === undefined ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      {props.problem === undefined ? null : <p class="field-problem" id={`${id}-problem`}>{props.problem}</p>}
    </div>
  );
}

/** Check boxes for a set of values, in a fieldset with a legend. */
export function CheckGroup(props: { readonly legend: string; readonly options: readonly Option[]; readonly selected: readonly string[]; readonly onChange: (selected: string[]) => void; readonly hint?: string }) {
  const id = useId();
  const toggle = (value: string, on: boolean) => {
    const next = on ? [...props.selected, value] : props.selected.filter((v) => v !== value);
    props.onChange(props.options.map((o) => o.value).filter((v) => next.includes(v)));
  };
  return (
    <fieldset class="admin-checks" aria-describedby={props.hint === undefined ? undefined : `${id}-hint`}>
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option.value} class="admin-check">
          <input type="checkbox" checked={props.selected.includes(option.value)} onChange={(event) => toggle(option.value, event.currentTarget.checked)} /> {option.label}
        </label>
      ))}
      {props.hint === undefined ? null : <p class="hint" id={`${id}-hint`}>{props.hint}</p>}
    </fieldset>
  );
}

/** The field problems of a refusal, by field name (the part after the last `/` or `.`). */
export function problemsOf(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof error !== 'object' || error === null || !('errors' in error) || !Array.isArray(error.errors)) return out;
  for (const entry of error.errors as { field?: unknown; message?: unknown }[]) {
    if (typeof entry.field !== 'string' || typeof entry.message !== 'string') continue;
    const name = entry.field.split(/[/.]/).filter((part) => part !== '').at(-1) ?? entry.field;
    out[name] ??= entry.message;
  }
  return out;
}

/** A sub-page's id from the address: `/console/devices/abc` under `/console/devices` gives `abc`. */
export function subPath(path: string, base: string): string | undefined {
  const rest = path.slice(base.length);
  if (!rest.startsWith('/') || rest.length < 2) return undefined;
  try {
    return decodeURIComponent(rest.slice(1));
  } catch {
    return undefined;
  }
}

export function BackLink(props: { readonly href: string; readonly children: ComponentChildren }) {
  return (
    <p class="admin-back">
      <a href={props.href}>← {props.children}</a>
    </p>
  );
}

/**
 * The object an object's page shows, loaded again when `id` changes: the
 * object (undefined while loading), a setter for the server's answers to
 * changes, and the load's failure.
 */
export function useLoaded<T>(id: string, load: (id: string) => Promise<T>): [T | undefined, (value: T) => void, unknown] {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    let live = true;
    setValue(undefined);
    setError(undefined);
    loader
      .current(id)
      .then((loaded) => {
        if (live) setValue(loaded);
      })
      .catch((failure: unknown) => {
        if (live) setError(failure);
      });
    return () => {
      live = false;
    };
  }, [id]);
  return [value, setValue, error];
}

/** An object's page when the object could not be loaded: the way back, the page's title and why. */
export function LoadFailed(props: { readonly back: string; readonly backLabel: string; readonly title: string; readonly error: unknown }) {
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <BackLink href={props.back}>{props.backLabel}</BackLink>
      <h1 id={id}>{props.title}</h1>
      <ErrorNote error={props.error} />
    </section>
  );
}
