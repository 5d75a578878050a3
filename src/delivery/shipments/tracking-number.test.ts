import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newTrackingNumber, parseTrackingNumber, TRACKING_NUMBER_PATTERN } from './tracking-number.ts';
import { hashTrackingToken, newTrackingToken, TRACKING_TOKEN_PATTERN } from './tracking-token.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXY';

describe('tracking numbers', () => {
  test('are RP- and eleven Crockford characters (no Z) in groups, random and self-checking', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const number = newTrackingNumber();
      assert.match(number, new RegExp(TRACKING_NUMBER_PATTERN));
      assert.equal(parseTrackingNumber(number), number);
      seen.add(number);
    }
    assert.equal(seen.size, 2000);
  });

  test('are read back in any spelling: case, spaces, dashes, look-alike letters, no prefix', () => {
    const number = newTrackingNumber();
    const compact = number.slice(3).replaceAll('-', '');
    assert.equal(parseTrackingNumber(number.toLowerCase()), number);
    assert.equal(parseTrackingNumber(compact), number);
    assert.equal(parseTrackingNumber(` rp ${compact.slice(0, 5)} ${compact.slice(5)} `), number);
    const withLookAlikes = compact.replaceAll('1', 'l').replaceAll('0', 'O');
    assert.equal(parseTrackingNumber(withLookAlikes), number);
  });

  test('the check character catches every single mistyped character and every swap of neighbours', () => {
    const number = newTrackingNumber();
    const compact = number.slice(3).replaceAll('-', '');
    for (let i = 0; i < compact.length; i++) {
      for (const c of ALPHABET) {
        if (c === compact[i]) continue;
        const typo = compact.slice(0, i) + c + compact.slice(i + 1);
        assert.equal(parseTrackingNumber(typo), undefined, `substitution at ${i}`);
      }
      const swapped = compact.slice(0, i) + (compact[i + 1] ?? '') + (compact[i] ?? '') + compact.slice(i + 2);
      if (i + 1 < compact.length && compact[i] !== compact[i + 1]) assert.equal(parseTrackingNumber(swapped), undefined, `swap at ${i}`);
    }
    // Every pair of neighbouring values, in a fixed payload: no swap goes unnoticed.
    for (const a of ALPHABET) {
      for (const b of ALPHABET) {
        if (a === b) continue;
        const payload = `${a}${b}23456789`;
        const good = Array.from(ALPHABET).map((c) => `${payload}${c}`).find((candidate) => parseTrackingNumber(candidate) !== undefined) ?? '';
        assert.equal(parseTrackingNumber(`${b}${a}23456789${good.at(-1) ?? ''}`), undefined, `${a}${b} swapped`);
      }
    }
    assert.equal(parseTrackingNumber(''), undefined);
    assert.equal(parseTrackingNumber(`${compact}0`), undefined);
    assert.equal(parseTrackingNumber('RP-UUUU-UUUU-UUU'), undefined);
  });
});

describe('tracking tokens', () => {
  test('carry 256 bits and are stored only as their SHA-256', () => {
    const { token, hash } = newTrackingToken();
    assert.match(token, TRACKING_TOKEN_PATTERN);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(hash, hashTrackingToken(token));
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.notEqual(newTrackingToken().token, token);
  });
});
