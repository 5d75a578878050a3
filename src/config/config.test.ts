import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../kernel/errors.ts';
import { hasCode } from '../../test/support/errors.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { renderConfigDoc } from './docs.ts';
import { loadConfig, redactConfig } from './load.ts';
import { configOptions } from './schema.ts';

const KEY = randomBytes(32).toString('base64');

describe('configuration', () => {
  let dir: ReturnType<typeof tempDir>;
  let certFile: string;
  let keyFile: string;
  before(() => {
    dir = tempDir('rampart-config');
    certFile = join(dir.path, 'cert.pem');
    keyFile = join(dir.path, 'key.pem');
    writeFileSync(certFile, 'placeholder');
    writeFileSync(keyFile, 'placeholder', { mode: 0o600 });
  });
  after(() => dir.cleanup());

  const load = (env: Record<string, string> = {}, file?: object) => {
    let path: string | undefined;
    if (file !== undefined) {
      path = join(dir.path, `config-${randomBytes(4).toString('hex')}.json`);
      writeFileSync(path, JSON.stringify(file));
    }
    return loadConfig({ file: path, env, cwd: dir.path }).config;
  };

  test('defaults are secure: loopback planes, loopback-only allow-lists, development mode', () => {
    const config = load();
    assert.equal(config.env, 'development');
    for (const [name, port] of [['app', 8080], ['device', 8081], ['admin', 9400]] as const) {
      assert.equal(config.planes[name].host, '127.0.0.1');
      assert.equal(config.planes[name].port, port);
      assert.deepEqual(config.planes[name].allow, ['127.0.0.0/8', '::1/128']);
      assert.deepEqual(config.planes[name].trustedProxies, []);
      assert.equal(config.planes[name].tls, undefined);
    }
    assert.equal(config.database.driver, 'sqlite');
    assert.equal(config.database.migrateOnStart, true);
  });

  test('is deeply frozen once loaded', () => {
    const config = load();
    assert.throws(() => {
      (config.planes.app as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.planes.app.allow).push('0.0.0.0/0');
    }, TypeError);
  });

  test('environment overrides the file, which overrides defaults', () => {
    const config = load({ RAMPART_PLANES_ADMIN_PORT: '9500', RAMPART_PLANES_APP_ALLOW: '10.0.0.0/8, 127.0.0.1', RAMPART_DATABASE_MIGRATE_ON_START: 'false' }, { planes: { admin: { port: 9401 }, device: { port: 9402 } } });
    assert.equal(config.planes.admin.port, 9500);
    assert.equal(config.planes.device.port, 9402);
    assert.deepEqual(config.planes.app.allow, ['10.0.0.0/8', '127.0.0.1']);
    assert.equal(config.database.migrateOnStart, false);
  });

  test('reads the file named by RAMPART_CONFIG', () => {
    const path = join(dir.path, 'named.json');
    writeFileSync(path, JSON.stringify({ bootstrap: { adminUsername: 'root-operator' } }));
    assert.equal(loadConfig({ env: { RAMPART_CONFIG: path }, cwd: dir.path }).config.bootstrap.adminUsername, 'root-operator');
  });

  test('refuses unknown keys, naming each one', () => {
    assert.throws(() => load({}, { planes: { app: { prot: 1 } }, extra: true }), hasCode('config.invalid', /planes\.app\.prot: unknown option/, /extra: unknown option/));
  });

  test('refuses unknown RAMPART_ variables but ignores RAMPART_TEST_ ones', () => {
    assert.throws(() => load({ RAMPART_PLANES_APP_PROT: '1' }), hasCode('config.invalid', /RAMPART_PLANES_APP_PROT: not a Rampart option/));
    assert.doesNotThrow(() => load({ RAMPART_TEST_POSTGRES_URL: 'postgres://x' }));
  });

  test('refuses values of the wrong type or out of range, naming the variable', () => {
    assert.throws(() => load({ RAMPART_PLANES_APP_PORT: 'eighty' }), hasCode('config.invalid', /RAMPART_PLANES_APP_PORT: expected an integer/));
    assert.throws(() => load({ RAMPART_PLANES_APP_PORT: '70000' }), hasCode('config.invalid', /planes\.app\.port \(from RAMPART_PLANES_APP_PORT\): must be <= 65535/));
    assert.throws(() => load({ RAMPART_ENV: 'staging' }), hasCode('config.invalid', /env \(from RAMPART_ENV\): must be one of "development", "production"/));
    assert.throws(() => load({ RAMPART_DATABASE_MIGRATE_ON_START: 'maybe' }), hasCode('config.invalid', /expected true or false/));
  });

  test('refuses an unreadable or non-JSON file', () => {
    const path = join(dir.path, 'broken.json');
    writeFileSync(path, '{ "planes": ');
    assert.throws(() => loadConfig({ file: path, env: {}, cwd: dir.path }), hasCode('config.unreadable', /not valid JSON/));
    assert.throws(() => loadConfig({ file: join(dir.path, 'absent.json'), env: {}, cwd: dir.path }), hasCode('config.unreadable', /ENOENT/));
  });

  test('refuses a master key written into a file: secrets come from the environment', () => {
    assert.throws(() => load({}, { keyring: { masterKey: KEY } }), hasCode('config.invalid', /keyring\.masterKey: may not be set in a file; supply it through RAMPART_MASTER_KEY/));
  });

  test('refuses a plane beyond loopback without TLS or a trusted proxy, and says what to change', () => {
    assert.throws(() => load({ RAMPART_PLANES_DEVICE_HOST: '0.0.0.0' }), hasCode('config.insecure', /planes\.device\.host: 0\.0\.0\.0 is beyond loopback but the plane has no TLS; set planes\.device\.tls\.certFile/));
    assert.throws(() => load({ RAMPART_PLANES_APP_HOST: '::' }), hasCode('config.insecure', /planes\.app\.host/));
    assert.equal(load({ RAMPART_PLANES_DEVICE_HOST: '0.0.0.0', RAMPART_PLANES_DEVICE_TLS_CERT_FILE: certFile, RAMPART_PLANES_DEVICE_TLS_KEY_FILE: keyFile }).planes.device.tls?.minVersion, 'TLSv1.2');
    assert.deepEqual(load({ RAMPART_PLANES_APP_HOST: '10.1.2.3', RAMPART_PLANES_APP_TRUSTED_PROXIES: '10.1.0.5' }).planes.app.trustedProxies, ['10.1.0.5']);
  });

  test('refuses production without a supplied master key', () => {
    assert.throws(() => load({ RAMPART_ENV: 'production' }), hasCode('config.insecure', /production needs a supplied master key; set RAMPART_MASTER_KEY/));
    assert.equal(load({ RAMPART_ENV: 'production', RAMPART_MASTER_KEY: KEY }).env, 'production');
  });

  test('refuses an admin allow-list that admits everyone', () => {
    for (const everyone of ['0.0.0.0/0', '::/0', '127.0.0.1,0.0.0.0/0']) {
      assert.throws(() => load({ RAMPART_PLANES_ADMIN_ALLOW: everyone }), hasCode('config.insecure', /planes\.admin\.allow: a \/0 range admits everyone/), everyone);
    }
    assert.deepEqual(load({ RAMPART_PLANES_APP_ALLOW: '0.0.0.0/0,::/0' }).planes.app.allow, ['0.0.0.0/0', '::/0'], 'the public app plane may admit everyone');
  });

  test('refuses trusting every address as a proxy', () => {
    assert.throws(() => load({ RAMPART_PLANES_APP_TRUSTED_PROXIES: '0.0.0.0/0' }), hasCode('config.insecure', /trustedProxies: a \/0 range trusts every client/));
  });

  test('refuses a master key file readable by group or others', () => {
    const path = join(dir.path, 'open.key');
    writeFileSync(path, KEY, { mode: 0o640 });
    assert.throws(() => load({}, { keyring: { masterKeyFile: path } }), hasCode('config.insecure', /chmod 600/));
  });

  test('refuses a remote PostgreSQL without TLS in production', () => {
    const base = { RAMPART_ENV: 'production', RAMPART_MASTER_KEY: KEY, RAMPART_DATABASE_DRIVER: 'postgres' };
    assert.throws(() => load({ ...base, RAMPART_DATABASE_POSTGRES_URL: 'postgres://rampart@db.internal:5432/rampart' }), hasCode('config.insecure', /sslmode=verify-full/));
    assert.equal(load({ ...base, RAMPART_DATABASE_POSTGRES_URL: 'postgres://rampart@db.internal:5432/rampart?sslmode=verify-full' }).database.driver, 'postgres');
    assert.equal(load({ ...base, RAMPART_DATABASE_POSTGRES_URL: 'postgres://rampart@127.0.0.1:5432/rampart' }).database.driver, 'postgres');
  });

  test('refuses single sign-on that is half configured, or reached over plain HTTP beyond this machine', () => {
    assert.throws(() => load({}, { identity: { sso: { enabled: true } } }), hasCode('config.invalid', /identity\.sso\.issuer: required/, /RAMPART_SSO_CLIENT_SECRET/, /roleMap: maps no provider group/));
    const sso = { enabled: true, issuer: 'http://idp.example.com', clientId: 'rampart', redirectUri: 'https://ops.example.com/api/v1/auth/sso/callback', roleMap: { ops: 'dispatcher' } };
    assert.throws(() => load({ RAMPART_SSO_CLIENT_SECRET: 's3cret' }, { identity: { sso } }), hasCode('config.insecure', /identity\.sso\.issuer: http:\/\/idp\.example\.com is not HTTPS/));
    assert.equal(load({ RAMPART_SSO_CLIENT_SECRET: 's3cret' }, { identity: { sso: { ...sso, issuer: 'https://idp.example.com' } } }).identity.sso.enabled, true);
    assert.equal(load({ RAMPART_SSO_CLIENT_SECRET: 's3cret' }, { identity: { sso: { ...sso, issuer: 'http://127.0.0.1:9000' } } }).identity.sso.issuer, 'http://127.0.0.1:9000', 'a local provider in development');
  });

  test('refuses passkey origins outside the relying-party id, and plain HTTP origins in production', () => {
    assert.throws(() => load({}, { identity: { webauthn: { rpId: 'example.com', origins: ['https://evil.test'] } } }), hasCode('config.invalid', /not within identity\.webauthn\.rpId/));
    assert.throws(() => load({}, { identity: { webauthn: { rpId: 'example.com', origins: ['https://ops.example.com/console'] } } }), hasCode('config.invalid', /is not an origin/));
    assert.throws(() => load({ RAMPART_ENV: 'production', RAMPART_MASTER_KEY: KEY }, { identity: { webauthn: { rpId: 'example.com', origins: ['http://ops.example.com'] } } }), hasCode('config.insecure', /plain HTTP/));
    assert.equal(load({}, { identity: { webauthn: { rpId: 'example.com', origins: ['https://ops.example.com'] } } }).identity.webauthn.rpId, 'example.com');
  });

  test('refuses a device CA that is missing, or without TLS on any device listener', () => {
    assert.throws(() => load({}, { devices: { clientCaFile: join(dir.path, 'absent-ca.pem') } }), hasCode('config.invalid', /devices\.clientCaFile: file .* does not exist/, /need TLS on the device plane or the MQTT listener/));
    const tls = { certFile, keyFile };
    assert.throws(() => load({}, { mqtt: { enabled: false, tls }, devices: { clientCaFile: certFile } }), hasCode('config.invalid', /need TLS on the device plane or the MQTT listener/), 'a disabled MQTT listener does not count');
    assert.equal(load({}, { mqtt: { tls }, devices: { clientCaFile: certFile } }).devices.clientCaFile, certFile, 'TLS on the MQTT listener alone is enough');
    assert.equal(load({}, { planes: { device: { tls } }, devices: { clientCaFile: certFile } }).devices.clientCaFile, certFile, 'TLS on the device plane alone is enough');
  });

  test('refuses malformed values the schema cannot see', () => {
    assert.throws(() => load({ RAMPART_PLANES_APP_ALLOW: '10.0.0.0/33' }), hasCode('config.invalid', /"10\.0\.0\.0\/33" is not a CIDR range/));
    assert.throws(() => load({ RAMPART_PLANES_APP_HOST: 'localhost' }), hasCode('config.invalid', /"localhost" is not an IP address/));
    assert.throws(() => load({ RAMPART_PLANES_DEVICE_PORT: '8080' }), hasCode('config.invalid', /127\.0\.0\.1:8080 is already used by planes\.app/));
    assert.throws(() => load({ RAMPART_DATABASE_DRIVER: 'postgres' }), hasCode('config.invalid', /needs a postgres:\/\/ URL/));
    assert.throws(() => load({ RAMPART_MASTER_KEY: 'c2hvcnQ=' }), hasCode('config.invalid', /must be 32 bytes/));
    assert.throws(() => load({ RAMPART_PLANES_APP_TLS_CERT_FILE: join(dir.path, 'none.pem'), RAMPART_PLANES_APP_TLS_KEY_FILE: keyFile }), hasCode('config.invalid', /does not exist/));
  });

  test('lists every problem at once', () => {
    assert.throws(
      () => load({ RAMPART_PLANES_ADMIN_ALLOW: '0.0.0.0/0', RAMPART_PLANES_APP_HOST: '0.0.0.0' }),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 2,
    );
  });

  test('redacts secrets when printed', () => {
    const config = load({ RAMPART_MASTER_KEY: KEY, RAMPART_DATABASE_DRIVER: 'postgres', RAMPART_DATABASE_POSTGRES_URL: 'postgres://u:hunter2@127.0.0.1/db' });
    const printed = JSON.stringify(redactConfig(config));
    assert.ok(!printed.includes(KEY));
    assert.ok(!printed.includes('hunter2'));
    assert.match(printed, /"postgresUrl":"\[redacted\]"/);
  });

  test('describes every option, and docs/CONFIG.md matches the schema', () => {
    for (const option of configOptions()) assert.ok(typeof option.schema['description'] === 'string' && option.schema['description'].length > 10, option.path);
    const committed = readFileSync(new URL('../../docs/CONFIG.md', import.meta.url), 'utf8');
    assert.equal(committed, renderConfigDoc(), 'docs/CONFIG.md is out of date: run `npm run docs`');
  });
});
