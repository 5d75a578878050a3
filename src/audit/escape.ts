// Text that came from stored data (or an export file) is printed to a terminal
// only with its control characters made visible: a stored ESC sequence or bare
// newline must not be able to recolour, move the cursor or fake an output line.

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Replaces C0/C1 controls, DEL, line separators and bidirectional overrides with visible escapes (`\n`, `\u001b`). */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
