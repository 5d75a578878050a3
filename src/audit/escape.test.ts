import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeControl } from './escape.ts';

test('escapeControl makes control, separator and bidirectional characters visible and leaves other text alone', () => {
  assert.equal(escapeControl('line\nnext\r\tend'), 'line\\nnext\\r\\tend');
  assert.equal(escapeControl('\u001b[31mred\u001b[0m'), '\\u001b[31mred\\u001b[0m');
  assert.equal(escapeControl('a\u0000b\u007fc\u009bd'), 'a\\u0000b\\u007fc\\u009bd');
  assert.equal(escapeControl('x\u2028y\u202ez\u2066'), 'x\\u2028y\\u202ez\\u2066');
  assert.equal(escapeControl('Zoë — 東京 ✓ "quoted"'), 'Zoë — 東京 ✓ "quoted"');
});
