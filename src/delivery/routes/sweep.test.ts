import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearingDegrees, sweepGroups } from './sweep.ts';

const DEPOT = { lat: 52.52, lon: 13.405 };
const at = (bearing: number, km = 3) => {
  const rad = (bearing * Math.PI) / 180;
  return { lat: DEPOT.lat + (km * Math.cos(rad)) / 111.2, lon: DEPOT.lon + (km * Math.sin(rad)) / (111.2 * Math.cos((DEPOT.lat * Math.PI) / 180)) };
};

describe('sweep', () => {
  test('bearings run clockwise from north', () => {
    assert.ok(Math.abs(bearingDegrees(DEPOT, at(0))) < 0.5 || Math.abs(bearingDegrees(DEPOT, at(0)) - 360) < 0.5);
    assert.ok(Math.abs(bearingDegrees(DEPOT, at(90)) - 90) < 0.5);
    assert.ok(Math.abs(bearingDegrees(DEPOT, at(225)) - 225) < 0.5);
  });

  test('every item lands in exactly one group, group sizes differ by at most one', () => {
    const items = Array.from({ length: 11 }, (_, i) => ({ id: `s${i}`, point: at(i * 33) }));
    const groups = sweepGroups(DEPOT, items, 3);
    assert.equal(groups.length, 3);
    assert.deepEqual(groups.flat().map((i) => i.id).sort(), items.map((i) => i.id).sort());
    const sizes = groups.map((g) => g.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, JSON.stringify(sizes));
  });

  test('groups are sectors: two clusters on opposite sides are never mixed', () => {
    const east = [80, 85, 90, 95].map((b, i) => ({ id: `e${i}`, point: at(b) }));
    const west = [265, 270, 275, 280].map((b, i) => ({ id: `w${i}`, point: at(b) }));
    const groups = sweepGroups(DEPOT, [...west, ...east], 2);
    for (const group of groups) assert.equal(new Set(group.map((i) => i.id[0])).size, 1, JSON.stringify(group.map((i) => i.id)));
  });

  test('the sweep starts after the widest gap, so a cluster around north is not split across 0°', () => {
    const north = [350, 355, 5, 10].map((b, i) => ({ id: `n${i}`, point: at(b) }));
    const south = [170, 175, 185, 190].map((b, i) => ({ id: `s${i}`, point: at(b) }));
    const groups = sweepGroups(DEPOT, [...north, ...south], 2);
    for (const group of groups) assert.equal(new Set(group.map((i) => i.id[0])).size, 1);
  });

  test('fewer items than groups gives one group per item; none gives none', () => {
    assert.equal(sweepGroups(DEPOT, [{ id: 'a', point: at(10) }], 4).length, 1);
    assert.deepEqual(sweepGroups(DEPOT, [], 2), []);
    assert.throws(() => sweepGroups(DEPOT, [], 0), RangeError);
  });
});
