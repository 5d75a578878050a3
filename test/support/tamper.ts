/**
 * `text` with one character a few places from the end replaced by a different
 * base64url character: always a different string, and (unlike the very last
 * character, whose low bits may be padding) always different decoded bytes.
 */
export function alterLast(text: string): string {
  const at = Math.max(0, text.length - 5);
  return `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
}
