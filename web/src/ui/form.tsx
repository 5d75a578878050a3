import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError, describeError } from '../api/client.ts';

// Form pieces every screen shares. Labels are real <label>s tied to their
// inputs; a refusal is announced (role="alert") in the server's own words,
// with each field problem beside its field.

export type FieldType = 'text' | 'password' | 'search' | 'date' | 'email';

export function Field(props: {
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly type?: FieldType;
  readonly autoComplete?: string;
  readonly inputMode?: 'numeric' | 'text';
  readonly required?: boolean;
  readonly hint?: string;
  readonly problem?: string | undefined;
  readonly autoFocus?: boolean;
  readonly name?: string;
}) {
  const id = useId();
  const described = props.problem === undefined ? (props.hint === undefined ? undefined : `${id}-hint`) : `${id}-problem`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        {...typed(props.type)}
        value={props.value}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        required={props.required}
        autoFocus={props.autoFocus}
        aria-invalid={props.problem === undefined ? undefined : true}
        aria-describedby={described}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
      {props.hint !== undefined && props.problem === undefined ? <p class="hint" id={`${id}-hint`}>{props.hint}</p> : null}
      {props.problem === undefined ? null : <p class="field-problem" id={`${id}-problem`}>{props.problem}</p>}
    </div>
  );
}

// Preact types an input's attributes as a union keyed on a literal `type`.
function typed(type: FieldType | undefined) {
  switch (type) {
    case 'password':
      return { type: 'password' } as const;
    case 'search':
      return { type: 'search' } as const;
    case 'date':
      return { type: 'date' } as const;
    case 'email':
      return { type: 'email' } as const;
    case undefined:
    case 'text':
      return { type: 'text' } as const;
  }
}

export function ErrorNote(props: { readonly error: unknown }) {
  if (props.error === undefined) return null;
  const fields = props.error instanceof ApiError ? props.error.errors : [];
  return (
    <div class="error-note" role="alert">
      <p>{describeError(props.error)}</p>
      {fields.length === 0 ? null : (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code> {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Button(props: { readonly children: ComponentChildren; readonly onClick?: () => void; readonly type?: 'button' | 'submit'; readonly busy?: boolean; readonly kind?: 'primary' | 'secondary' | 'danger'; readonly disabled?: boolean; readonly label?: string }) {
  return (
    <button type={props.type ?? 'button'} class={`button ${props.kind ?? 'primary'}`} disabled={props.busy === true || props.disabled === true} aria-busy={props.busy === true ? true : undefined} aria-label={props.label} onClick={props.onClick}>
      {props.children}
    </button>
  );
}
