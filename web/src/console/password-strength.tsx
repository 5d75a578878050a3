import { useEffect, useState } from 'preact/hooks';

// An estimate of how long a password would resist guessing (zxcvbn-ts with its
// common-password and English dictionaries, loaded only on the pages that set
// a password). Advice, not a rule: the server's
// length and breached-password checks decide, and their refusal is shown.

const WORDS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

type Checker = (password: string, inputs: string[]) => { score: number; feedback: { warning: string | null } };

let checker: Promise<Checker> | undefined;

function loadChecker(): Promise<Checker> {
  checker ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(([{ ZxcvbnFactory }, common, english]) => {
    const factory = new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...english.dictionary }, graphs: common.adjacencyGraphs, translations: english.translations });
    return (password: string, inputs: string[]) => factory.check(password, inputs);
  });
  return checker;
}

export function PasswordStrength(props: { readonly password: string; readonly username: string }) {
  const [result, setResult] = useState<{ score: number; warning: string | null } | undefined>(undefined);
  useEffect(() => {
    let live = true;
    if (props.password === '') {
      setResult(undefined);
      return;
    }
    void loadChecker().then((check) => {
      if (!live) return;
      const outcome = check(props.password.slice(0, 128), [props.username, 'rampart']);
      setResult({ score: outcome.score, warning: outcome.feedback.warning });
    });
    return () => {
      live = false;
    };
  }, [props.password, props.username]);
  if (result === undefined) return null;
  const words = WORDS[Math.min(4, Math.max(0, result.score))] ?? WORDS[0];
  return (
    <div class="strength" aria-live="polite">
      <meter min={0} max={4} low={2} high={3} optimum={4} value={result.score} aria-label="Password strength" />
      <span>{words}{props.password.length < 8 ? ' — at least 8 characters' : ''}{result.warning === null || result.warning === '' ? '' : ` — ${result.warning}`}</span>
    </div>
  );
}
