import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasCode } from '../../../test/support/errors.ts';
import { tempDir } from '../../../test/support/tmp.ts';
import { loadConfig } from '../../config/load.ts';
import { defaultServiceSecondsFor, droneMissionSettingsFor, greatCircleProviderFor, matrixProviderFor } from './settings.ts';

const KEY = randomBytes(32).toString('base64');
const square = [[[13.3, 52.4], [13.5, 52.4], [13.5, 52.6], [13.3, 52.6], [13.3, 52.4]]];

describe('planning configuration', () => {
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir('rampart-planning-config');
  });
  after(() => dir.cleanup());

  const load = (planning: object, env: Record<string, string> = {}) => {
    const file = join(dir.path, `config-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify({ planning }));
    return loadConfig({ file, env, cwd: dir.path }).config;
  };

  test('defaults to great-circle planning with documented speeds and no zones', () => {
    const { planning } = load({});
    assert.deepEqual(planning, { osrmUrl: '', osrmTimeoutMs: 5000, averageSpeedKmh: 40, serviceMinutes: 5, drone: { cruiseSpeedKmh: 54, cruiseAltitudeM: 100, rangeReservePercent: 20 }, noFlyZones: {} });
    assert.equal(matrixProviderFor(planning).name, 'great-circle');
    assert.equal(defaultServiceSecondsFor(planning), 300);
  });

  test('an OSRM URL selects the OSRM provider; great-circle stays available as the fallback', () => {
    const { planning } = load({ osrmUrl: 'http://127.0.0.1:5000' });
    assert.equal(matrixProviderFor(planning).name, 'osrm');
    assert.equal(greatCircleProviderFor(planning).name, 'great-circle');
  });

  test('reads no-fly zones from a file or RAMPART_PLANNING_NO_FLY_ZONES, sorted by name', () => {
    const fromEnv = load({}, { RAMPART_PLANNING_NO_FLY_ZONES: JSON.stringify({ stadium: square, airport: square }) }).planning;
    assert.deepEqual(droneMissionSettingsFor(fromEnv).noFlyZones.map((z) => z.name), ['airport', 'stadium']);
    assert.deepEqual(droneMissionSettingsFor(load({ noFlyZones: { airport: square } }).planning).noFlyZones[0]?.polygon, square);
  });

  test('refuses an OSRM URL that is not http(s), or carries credentials or a query', () => {
    assert.throws(() => load({ osrmUrl: 'ftp://osrm.internal' }), hasCode('config.invalid', /planning\.osrmUrl: "ftp:\/\/osrm\.internal" is not an http/));
    assert.throws(() => load({ osrmUrl: 'https://user:pw@osrm.internal' }), hasCode('config.invalid', /without credentials, query or fragment/));
  });

  test('refuses plain HTTP to a remote OSRM server in production, but not on loopback or over HTTPS', () => {
    const production = { RAMPART_ENV: 'production', RAMPART_MASTER_KEY: KEY };
    assert.throws(() => load({ osrmUrl: 'http://osrm.internal:5000' }, production), hasCode('config.insecure', /planning\.osrmUrl: .* is plain HTTP beyond this machine/));
    assert.equal(load({ osrmUrl: 'http://127.0.0.1:5000' }, production).planning.osrmUrl, 'http://127.0.0.1:5000');
    assert.equal(load({ osrmUrl: 'https://osrm.internal' }, production).planning.osrmUrl, 'https://osrm.internal');
    assert.equal(load({ osrmUrl: 'http://osrm.internal:5000' }).planning.osrmUrl, 'http://osrm.internal:5000', 'allowed in development');
  });

  test('refuses no-fly zones that are open, too short or out of range, naming the zone', () => {
    assert.throws(() => load({ noFlyZones: { airport: [[[13.3, 52.4], [13.5, 52.4], [13.5, 52.6], [13.3, 52.6]]] } }), hasCode('config.invalid', /planning\.noFlyZones\.airport: outer ring: is not closed/));
    assert.throws(() => load({ noFlyZones: { airport: [[[13.3, 52.4], [13.5, 52.4], [13.3, 52.4]]] } }), hasCode('config.invalid', /planning\.noFlyZones\.airport/));
    assert.throws(() => load({ noFlyZones: { airport: [[[200, 52.4], [13.5, 52.4], [13.5, 52.6], [200, 52.4]]] } }), hasCode('config.invalid', /planning\.noFlyZones\.airport/));
    assert.throws(() => load({ noFlyZones: { 'bad/name': square } }), hasCode('config.invalid', /planning\.noFlyZones: "bad\/name" is not a zone name/));
  });
});
