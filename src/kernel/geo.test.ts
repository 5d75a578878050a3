import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distanceMetres, EARTH_RADIUS_M } from './geo.ts';

describe('great-circle distance', () => {
  test('measures on the sphere of EARTH_RADIUS_M, so walking that radius along a meridian round-trips', () => {
    const from = { lat: 51.5, lon: -0.14 };
    const north = { lat: from.lat + (150 / EARTH_RADIUS_M) * (180 / Math.PI), lon: from.lon };
    assert.ok(Math.abs(distanceMetres(from, north) - 150) < 1e-6);
    assert.ok(Math.abs(distanceMetres({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }) - (EARTH_RADIUS_M * Math.PI) / 180) < 1e-6);
  });

  test('gives the known distance between two landmarks within the sphere\'s error', () => {
    // London (Big Ben) to Paris (Eiffel Tower): about 340.6 km.
    const km = distanceMetres({ lat: 51.5007, lon: -0.1246 }, { lat: 48.8584, lon: 2.2945 }) / 1000;
    assert.ok(km > 339 && km < 342, String(km));
  });
});
