import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RampartError } from '../../kernel/errors.ts';
import { canTransition, checkTransition, FAILURE_REASONS, FINAL_STATUSES, SHIPMENT_STATUSES, TRANSITIONS, type ShipmentStatus, type TransitionRequest } from './status.ts';

// The whole table, pair by pair: every legal change is accepted, every other
// one is refused with `shipment.invalid_transition` and a message naming the
// statuses the shipment may move to.

const LEGAL: ReadonlyArray<readonly [ShipmentStatus, ShipmentStatus]> = [
  ['created', 'assigned'],
  ['assigned', 'created'],
  ['assigned', 'out_for_delivery'],
  ['out_for_delivery', 'delivered'],
  ['out_for_delivery', 'failed'],
  ['out_for_delivery', 'returned'],
  ['failed', 'assigned'],
  ['failed', 'returned'],
];

function requestFor(to: ShipmentStatus): TransitionRequest {
  return to === 'failed' ? { to, reason: 'recipient_absent' } : { to };
}

describe('shipment status machine', () => {
  test('the table holds exactly the documented transitions', () => {
    const table = SHIPMENT_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from}→${to}`)).sort();
    assert.deepEqual(table, LEGAL.map(([from, to]) => `${from}→${to}`).sort());
    assert.deepEqual([...FINAL_STATUSES].sort(), ['delivered', 'returned']);
  });

  for (const from of SHIPMENT_STATUSES) {
    for (const to of SHIPMENT_STATUSES) {
      const legal = LEGAL.some(([f, t]) => f === from && t === to);
      test(`${from} → ${to} is ${legal ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), legal);
        if (legal) {
          const checked = checkTransition(from, requestFor(to));
          assert.deepEqual(checked, { from, to, reason: to === 'failed' ? 'recipient_absent' : null, note: null });
        } else {
          assert.throws(
            () => checkTransition(from, requestFor(to)),
            (error: unknown) => {
              assert.ok(error instanceof RampartError);
              assert.equal(error.code, 'shipment.invalid_transition');
              assert.match(error.publicDetail ?? '', FINAL_STATUSES.includes(from) ? /final/ : new RegExp(`can become ${TRANSITIONS[from].join(' or ')}, not ${to}`));
              return true;
            },
          );
        }
      });
    }
  }

  test('failed needs a reason from the fixed list; other needs a note', () => {
    for (const reason of FAILURE_REASONS.filter((r) => r !== 'other')) assert.equal(checkTransition('out_for_delivery', { to: 'failed', reason }).reason, reason);
    const refused = (request: TransitionRequest, message: RegExp) =>
      assert.throws(() => checkTransition('out_for_delivery', request), (error: unknown) => error instanceof RampartError && error.code === 'request.invalid' && message.test(error.publicDetail ?? ''));
    refused({ to: 'failed' }, /needs a reason/);
    refused({ to: 'failed', reason: 'lost_in_space' as 'other' }, /reason is one of/);
    refused({ to: 'failed', reason: 'other' }, /needs a note/);
    refused({ to: 'failed', reason: 'other', note: '   ' }, /needs a note/);
    refused({ to: 'delivered', reason: 'weather' }, /Only a failed delivery has a reason/);
    refused({ to: 'delivered', note: 'left at the door' }, /Only failed and returned/);
    refused({ to: 'failed', reason: 'other', note: 'x'.repeat(501) }, /at most 500/);
    assert.deepEqual(checkTransition('out_for_delivery', { to: 'failed', reason: 'other', note: '  gate locked ' }), { from: 'out_for_delivery', to: 'failed', reason: 'other', note: 'gate locked' });
    assert.equal(checkTransition('failed', { to: 'returned', note: 'back at the depot' }).note, 'back at the depot');
  });

  test('an unknown status is refused as bad input', () => {
    assert.throws(() => checkTransition('created', { to: 'lost' as ShipmentStatus }), (error: unknown) => error instanceof RampartError && error.code === 'request.invalid');
  });
});
