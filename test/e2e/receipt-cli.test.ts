import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Keyring } from '../../src/crypto/keyring.ts';
import { createProofOfDelivery, exportProofBundle, receiptJwks, shredPersonalData, type AcceptedProof, type ReceiptJwks } from '../../src/delivery/proof/core/index.ts';
import { DESTINATION, northOf, proofContext, proofSubmission } from '../support/proof-factories.ts';
import { ManualClock } from '../../src/kernel/clock.ts';
import { runCli, withCliDatabase } from '../support/cli.ts';
import { defaultProofLimits } from '../support/config.ts';
import { tempDir } from '../support/tmp.ts';

// `rampart receipt …` run as a process: receipts and export bundles made with a
// real keyring in the CLI's data directory, then verified offline (and altered).

describe('rampart receipt', () => {
  const dir = tempDir('rampart-receipt-cli');
  const key = randomBytes(32);
  const env = { RAMPART_MASTER_KEY: key.toString('base64') };
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path, env });
  const file = (name: string, content: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, content);
    return path;
  };
  let near: AcceptedProof;
  let far: AcceptedProof;
  let jwks: ReceiptJwks;
  let files: Record<'receipt' | 'farReceipt' | 'jwks' | 'tokenJwks' | 'bundle' | 'shreddedBundle', string>;

  before(async () => {
    const migrated = await cli('migrate', 'up');
    assert.equal(migrated.code, 0, migrated.stderr);
    await withCliDatabase(dir.path, async (database) => {
      const clock = new ManualClock('2026-01-01T09:00:00.000Z');
      const keyring = await Keyring.open({ database, masterKey: key, clock, columns: [] });
      const pod = createProofOfDelivery({ keyring, clock, limits: defaultProofLimits(), issuer: 'urn:rampart' });
      near = await pod.accept(proofSubmission(), proofContext({ pinVerified: true }));
      const away = northOf(DESTINATION, 400);
      far = await pod.accept(proofSubmission({ gps: { lat: away.lat, lon: away.lon, accuracyM: 8 }, relationship: 'neighbour' }), proofContext());
      await keyring.signingKey('token');
      jwks = await receiptJwks(database.db);
      const all = await keyring.publicJwks();
      const images = { signature: near.images.signature.bytes, photo: near.images.photo?.bytes };
      const bundle = await exportProofBundle({ record: near.record, images, receipt: near.receipt, jwks, keyring, clock });
      const shredded = await exportProofBundle({ record: shredPersonalData(near.record), images: {}, receipt: near.receipt, jwks, keyring, clock });
      files = {
        receipt: file('receipt.jws', `${near.receipt}\n`),
        farReceipt: file('far.jws', far.receipt),
        jwks: file('jwks.json', JSON.stringify(jwks)),
        tokenJwks: file('token-jwks.json', JSON.stringify({ keys: all.keys.filter((k) => !jwks.keys.some((r) => r.kid === k.kid)) })),
        bundle: file('bundle.json', JSON.stringify(bundle, null, 2)),
        shreddedBundle: file('shredded.json', JSON.stringify(shredded)),
      };
    });
  });
  after(() => dir.cleanup());

  test('lists its commands in --help', async () => {
    const help = await cli('receipt', '--help');
    assert.equal(help.code, 0);
    for (const command of ['verify', 'jwks']) assert.match(help.stdout, new RegExp(`\\n\\s+${command}\\b`), command);
  });

  test('receipt jwks prints the receipt keys only', async () => {
    const printed = await cli('receipt', 'jwks');
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(JSON.parse(printed.stdout), jwks);
  });

  test('a genuine receipt verifies (exit 0) with a summary of its claims', async () => {
    const verified = await cli('receipt', 'verify', files.receipt, '--jwks', files.jwks);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, new RegExp(`GENUINE and UNALTERED receipt — signature verified with receipt key ${near.kid}`));
    assert.match(verified.stdout, /tracking number: RP1234567890GB/);
    assert.match(verified.stdout, /12 m from the destination: verified \(within the radius\)/);
    assert.match(verified.stdout, /PIN verified:\s+yes/);
    assert.match(verified.stdout, new RegExp(`content hash:\\s+sha256:${near.claims.content_hash}`));
    assert.ok(!verified.stdout.includes('Ada'), 'no personal data printed: the receipt has none');

    const flagged = await cli('receipt', 'verify', files.farReceipt, '--jwks', files.jwks);
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, /400 m from the destination: NOT verified \(beyond the radius\)/);
    assert.match(flagged.stdout, /signed by:\s+neighbour/);
  });

  test('an altered receipt exits 1 with the reason', async () => {
    const [header, payload = '', signature] = near.receipt.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...claims, location_verified: false })).toString('base64url');
    const altered = await cli('receipt', 'verify', file('altered.jws', `${header ?? ''}.${edited}.${signature ?? ''}`), '--jwks', files.jwks);
    assert.equal(altered.code, 1);
    assert.match(altered.stderr, /error \[proof\.receipt_not_genuine\]: .*NOT GENUINE \(bad signature\)/);
    assert.equal(altered.stdout, '');
  });

  test('a receipt checked against keys of another purpose exits 1: unknown key', async () => {
    const refused = await cli('receipt', 'verify', files.receipt, '--jwks', files.tokenJwks);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /NOT GENUINE \(unknown key\): signed with key sk_\S+, which is not among the receipt keys given/);
  });

  test('a bare receipt without --jwks exits 1, asking for the keys', async () => {
    const refused = await cli('receipt', 'verify', files.receipt);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /proof\.file_unreadable.*pass --jwks/);
  });

  test('an export bundle verifies with its own keys, and says what that proves', async () => {
    const own = await cli('receipt', 'verify', files.bundle);
    assert.equal(own.code, 0, own.stdout + own.stderr);
    assert.match(own.stdout, /GENUINE and UNALTERED export/);
    assert.match(own.stdout, /personal data present and matching its commitment/);
    assert.match(own.stdout, /images:\s+signature matches its hash; photo matches its hash/);
    assert.match(own.stdout, /the bundle's own: this proves the bundle is unaltered since it was signed, not who signed it/);

    const given = await cli('receipt', 'verify', files.bundle, '--jwks', files.jwks);
    assert.equal(given.code, 0, given.stderr);
    assert.match(given.stdout, /keys:\s+from --jwks/);

    const shredded = await cli('receipt', 'verify', files.shreddedBundle, '--jwks', files.jwks);
    assert.equal(shredded.code, 0, shredded.stderr);
    assert.match(shredded.stdout, /personal data shredded \(the facts and the commitment still verify\)/);
    assert.match(shredded.stdout, /signature not included/);
  });

  test('an altered bundle exits 1', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(files.bundle, 'utf8');
    const tampered = file('tampered.json', text.replace('"driver_id": "acct_driver1"', '"driver_id": "acct_driver2"'));
    assert.notEqual(readFileSync(tampered, 'utf8'), text);
    const refused = await cli('receipt', 'verify', tampered);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error \[proof\.bundle_not_genuine\]: .*NOT GENUINE: bundle signature: the signature does not verify/);
  });

  test('unreadable input exits 1 with a clear reason', async () => {
    const missing = await cli('receipt', 'verify', join(dir.path, 'nowhere.jws'), '--jwks', files.jwks);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /proof\.file_unreadable.*cannot read file/);
    const garbage = await cli('receipt', 'verify', file('garbage.txt', 'hello, world'), '--jwks', files.jwks);
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /holds neither a receipt \(a compact JWS\) nor an export bundle/);
    const badKeys = await cli('receipt', 'verify', files.receipt, '--jwks', file('bad-jwks.json', '{"keys": 1}'));
    assert.equal(badKeys.code, 1);
    assert.match(badKeys.stderr, /proof\.jwks_invalid/);
  });
});
