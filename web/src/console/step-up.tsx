import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { SessionState } from '../api/types.ts';
import { SecondFactor } from './signin.tsx';
import { useSession } from './session.ts';

// A sensitive action the server refuses until a second factor is proven again
// opens this prompt; once proven, the same call is sent once more.

export function useStepUp() {
  const [open, setOpen] = useState(false);
  const pending = useRef<((proven: boolean) => void) | undefined>(undefined);
  const ask = useCallback(
    () =>
      new Promise<boolean>((resolve) => {
        pending.current?.(false);
        pending.current = resolve;
        setOpen(true);
      }),
    [],
  );
  const settle = (proven: boolean) => {
    pending.current?.(proven);
    pending.current = undefined;
    setOpen(false);
  };
  return { open, ask, done: () => settle(true), cancel: () => settle(false) };
}

export function StepUpDialog(props: { readonly onDone: () => void; readonly onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const { update } = useSession();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} class="step-up" aria-label="Confirm with your second factor" onCancel={(event) => { event.preventDefault(); props.onCancel(); }}>
      <p>This action needs your second factor again.</p>
      <SecondFactor
        title="Confirm it is you"
        onDone={(state: SessionState) => {
          update(state);
          props.onDone();
        }}
        onCancel={props.onCancel}
      />
    </dialog>
  );
}
