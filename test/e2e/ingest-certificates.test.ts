import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { DeviceRegistry } from '../../src/devices/registry.ts';
import { certificateAuthority, selfSignedCertificate, type IssuedCertificate } from '../support/certs.ts';
import { startTestRampart, type TestRampart } from '../support/identity.ts';
import { tempDir } from '../support/tmp.ts';

// X.509 on the device plane: with TLS and a device CA configured, a device whose
// certificate chains to that CA and whose thumbprint is registered to it may
// publish without a SAS token — and only as itself.

const SAMPLE = JSON.stringify({ lat: 52.2, lon: 0.12, speed: 10, heading: 90, odometer: 1234.5, timestamp: '2026-06-01T10:00:00.000Z' });

const DRONE_SAMPLE = JSON.stringify({ lat: 52.2, lon: 0.12, altitude: 100, heading: 10, groundSpeed: 12, battery: 80, flightState: 'cruise', timestamp: '2026-06-01T10:00:00.000Z' });

function connectWithCertificate(rampart: TestRampart, serverCa: Buffer, deviceId: string, client: { certFile: string; keyFile: string }): Promise<MqttClient> {
  const url = rampart.running.mqtt?.url ?? '';
  return connectAsync(url, { clientId: deviceId, username: `localhost/${deviceId}/?api-version=2021-04-12`, ca: serverCa, cert: readFileSync(client.certFile), key: readFileSync(client.keyFile), protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
}

async function publishOverMqtt(client: MqttClient): Promise<void> {
  try {
    await client.publishAsync(`devices/${client.options.clientId ?? ''}/messages/events/`, DRONE_SAMPLE, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

async function droneEvents(rampart: TestRampart): Promise<number> {
  let count = 0;
  for (let p = 0; p < 4; p++) count += (await rampart.running.eventLog.partitionInfo('drone-telemetry', p)).lastSequence;
  return count;
}

describe('device client certificates', () => {
  const dir = tempDir('rampart-x509');
  let rampart: TestRampart;
  let serverCa: Buffer;
  let good: IssuedCertificate;
  let droneCert: IssuedCertificate;
  let unregistered: IssuedCertificate;
  let stranger: { certFile: string; keyFile: string };

  before(async () => {
    const ca = await certificateAuthority(dir.path);
    const server = await selfSignedCertificate(dir.path, 'device-plane');
    serverCa = readFileSync(server.certFile);
    good = await ca.issue('truck-x1');
    droneCert = await ca.issue('drone-x1');
    unregistered = await ca.issue('truck-x2');
    stranger = await selfSignedCertificate(dir.path, 'not-from-the-ca');
    const tls = { certFile: server.certFile, keyFile: server.keyFile, minVersion: 'TLSv1.2' as const };
    rampart = await startTestRampart({ planes: { device: { tls } }, mqtt: { tls }, devices: { clientCaFile: ca.caFile } });
    const registry = new DeviceRegistry({ db: rampart.running.database.db, keyring: rampart.running.keyring, clock: rampart.clock });
    const change = { actor: { type: 'cli' as const, id: 'test' } };
    for (const id of ['truck-x1', 'truck-x2']) await registry.add({ id, kind: 'truck', name: id, depot: 'north' }, change);
    await registry.setThumbprints('truck-x1', [good.thumbprint], change);
    await registry.add({ id: 'drone-x1', kind: 'drone', name: 'drone-x1', depot: 'north' }, change);
    await registry.setThumbprints('drone-x1', [droneCert.thumbprint], change);
  });
  after(async () => {
    await rampart.stop();
    dir.cleanup();
  });

  function publish(deviceId: string, client?: { certFile: string; keyFile: string }): Promise<number> {
    const url = new URL(`/truck-telemetry/publishers/${deviceId}/messages`, rampart.running.urls.device);
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', ca: serverCa, ...(client === undefined ? {} : { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }), headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(SAMPLE);
    });
  }

  async function stored(): Promise<number> {
    let count = 0;
    for (let p = 0; p < 4; p++) count += (await rampart.running.eventLog.partitionInfo('truck-telemetry', p)).lastSequence;
    return count;
  }

  test('a registered certificate from the device CA publishes without a token', async () => {
    assert.equal(await publish('truck-x1', good), 201);
    assert.equal(await stored(), 1);
  });

  test('refused: no certificate, a certificate from another CA, one not registered to the device, and a good one used for another device', async () => {
    const before = await stored();
    assert.equal(await publish('truck-x1'), 401);
    assert.equal(await publish('truck-x1', stranger), 401);
    assert.equal(await publish('truck-x2', unregistered), 401);
    assert.equal(await publish('truck-x2', good), 401);
    assert.equal(await stored(), before, 'nothing was stored');
  });

  const mqttConnect = (deviceId: string, client: { certFile: string; keyFile: string }) => connectWithCertificate(rampart, serverCa, deviceId, client);

  test('over MQTT too: a registered certificate connects without a password and its PUBACK means stored', async () => {
    await publishOverMqtt(await mqttConnect('drone-x1', droneCert));
    assert.equal(await droneEvents(rampart), 1);
  });

  test('over MQTT, a certificate from another CA or registered to another device is refused at CONNECT', async () => {
    await assert.rejects(mqttConnect('drone-x1', stranger), /Not authorized|Bad username or password/);
    await assert.rejects(mqttConnect('drone-x1', good), /Not authorized/);
  });
});

describe('device client certificates on the MQTT listener alone', () => {
  // A fleet of MQTT-only devices: TLS and certificates on the MQTT listener, the
  // HTTP device plane left plain (behind a TLS-terminating proxy, say).
  const dir = tempDir('rampart-x509-mqtt');
  let rampart: TestRampart;
  let serverCa: Buffer;
  let droneCert: IssuedCertificate;
  let stranger: { certFile: string; keyFile: string };

  before(async () => {
    const ca = await certificateAuthority(dir.path);
    const server = await selfSignedCertificate(dir.path, 'mqtt-listener');
    serverCa = readFileSync(server.certFile);
    droneCert = await ca.issue('drone-m1');
    stranger = await selfSignedCertificate(dir.path, 'not-from-the-ca');
    rampart = await startTestRampart({ mqtt: { tls: { certFile: server.certFile, keyFile: server.keyFile, minVersion: 'TLSv1.2' } }, devices: { clientCaFile: ca.caFile } });
    const registry = new DeviceRegistry({ db: rampart.running.database.db, keyring: rampart.running.keyring, clock: rampart.clock });
    const change = { actor: { type: 'cli' as const, id: 'test' } };
    await registry.add({ id: 'drone-m1', kind: 'drone', name: 'drone-m1', depot: 'north' }, change);
    await registry.setThumbprints('drone-m1', [droneCert.thumbprint], change);
  });
  after(async () => {
    await rampart.stop();
    dir.cleanup();
  });

  test('starts with a plain device plane, and a registered certificate publishes over MQTT without a password', async () => {
    assert.match(rampart.running.urls.device, /^http:/);
    await publishOverMqtt(await connectWithCertificate(rampart, serverCa, 'drone-m1', droneCert));
    assert.equal(await droneEvents(rampart), 1);
  });

  test('a certificate from another CA is refused at CONNECT, and nothing is stored', async () => {
    await assert.rejects(connectWithCertificate(rampart, serverCa, 'drone-m1', stranger), /Not authorized|Bad username or password/);
    assert.equal(await droneEvents(rampart), 1);
  });
});
