import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { Value } from 'typebox/value';
import type { ErrorCode } from '../../kernel/error-catalog.ts';
import type { Db } from '../../storage/database.ts';
import { SoftwareAuthenticator, type Forgery, type SoftwareAuthenticatorOptions } from '../../../test/support/authenticator.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../test/support/databases.ts';
import { hasCode } from '../../../test/support/errors.ts';
import {
  AuthenticationResponseSchema,
  PASSKEY_ALGORITHMS,
  RegistrationResponseSchema,
  authenticationOptions,
  deletePasskey,
  listPasskeys,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
  type AuthenticationResponseBody,
  type PasskeyAccount,
  type PasskeyRow,
  type RegistrationResponseBody,
} from './passkeys.ts';

const RP = { id: 'console.rampart.test', name: 'Rampart', origins: ['https://console.rampart.test'] };
const ORIGIN = 'https://console.rampart.test';
const NOW = new Date('2026-03-01T12:00:00.000Z');
const LATER = new Date('2026-03-01T12:05:00.000Z');

/** A JSON round trip: what the route hands over after parsing the body. */
const overTheWire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Rows as plain objects (node:sqlite returns them without a prototype). */
const plain = (rows: readonly PasskeyRow[]): PasskeyRow[] => rows.map((row) => ({ ...row }));

describe('passkeys', () => {
  let opened: OpenedDatabase;
  let db: Db;
  const ada: PasskeyAccount = { id: 'acct_ada', username: 'ada' };
  const bob: PasskeyAccount = { id: 'acct_bob', username: 'bob' };

  before(async () => {
    opened = await sqliteTarget.open();
    db = opened.database.db;
    for (const account of [ada, bob]) {
      await db
        .insertInto('accounts')
        .values({ id: account.id, username: account.username, role: 'dispatcher', status: 'active', created_at: NOW.toISOString(), updated_at: NOW.toISOString() })
        .execute();
    }
  });
  after(() => opened.cleanup());

  const table = () => db.selectFrom('passkeys').selectAll().orderBy('id').execute();

  const authenticator = (options: Partial<SoftwareAuthenticatorOptions> = {}) => new SoftwareAuthenticator({ origin: ORIGIN, rpId: RP.id, ...options });

  /** One registration ceremony: options, the authenticator's answer, verification. */
  async function enrol(device: SoftwareAuthenticator, account: PasskeyAccount, forgery: Forgery = {}): Promise<PasskeyRow> {
    const { options, challenge } = await registrationOptions({ rp: RP, account, existing: await listPasskeys(db, account.id) });
    const response = overTheWire(device.register(options, forgery));
    return verifyRegistration(db, { rp: RP, account, expectedChallenge: challenge, response, name: 'Laptop', now: NOW });
  }

  /** An assertion for `account`'s passkeys with its ceremony's challenge. */
  async function assertion(device: SoftwareAuthenticator, accountId: string, forgery: Forgery = {}): Promise<{ response: AuthenticationResponseJSON; challenge: string }> {
    const { options, challenge } = await authenticationOptions({ rpId: RP.id, allow: await listPasskeys(db, accountId) });
    return { response: overTheWire(device.authenticate(options, forgery)), challenge };
  }

  const signIn = (accountId: string, response: AuthenticationResponseJSON, expectedChallenge: string, now = LATER) =>
    verifyAuthentication(db, { rp: RP, accountId, expectedChallenge, response, now });

  /** The attempt is refused with `code` and the passkeys table is exactly as before. */
  async function refusedWithoutChange(attempt: () => Promise<unknown>, code: ErrorCode = 'auth.mfa_failed', ...fragments: RegExp[]): Promise<void> {
    const before = await table();
    await assert.rejects(attempt(), hasCode(code, ...fragments));
    assert.deepEqual(await table(), before);
  }

  describe('options', () => {
    test('registration requires user verification, prefers a discoverable credential, wants no attestation and excludes existing passkeys', async () => {
      const existing: PasskeyRow = {
        id: 'AAEC',
        account_id: ada.id,
        public_key: '',
        sign_count: 0,
        transports: '["usb","nfc"]',
        device_type: 'singleDevice',
        backed_up: 0,
        name: 'Key',
        created_at: NOW.toISOString(),
        last_used_at: null,
      };
      const { options, challenge } = await registrationOptions({ rp: RP, account: ada, existing: [existing] });
      assert.equal(options.challenge, challenge);
      assert.ok(Buffer.from(challenge, 'base64url').length >= 32);
      assert.deepEqual(options.rp, { id: RP.id, name: RP.name });
      assert.deepEqual(options.user, { id: Buffer.from(ada.id).toString('base64url'), name: 'ada', displayName: 'ada' });
      assert.equal(options.attestation, 'none');
      assert.deepEqual(options.authenticatorSelection, { residentKey: 'preferred', requireResidentKey: false, userVerification: 'required' });
      assert.deepEqual(options.pubKeyCredParams.map((p) => p.alg), [...PASSKEY_ALGORITHMS]);
      assert.deepEqual(PASSKEY_ALGORITHMS, [-8, -7, -257]);
      assert.deepEqual(options.excludeCredentials, [{ id: 'AAEC', transports: ['usb', 'nfc'], type: 'public-key' }]);
    });

    test('authentication requires user verification and allows only the given passkeys, with a fresh challenge each time', async () => {
      const allow = [{ id: 'AAEC', transports: '["internal"]' }];
      const first = await authenticationOptions({ rpId: RP.id, allow });
      const second = await authenticationOptions({ rpId: RP.id, allow });
      assert.equal(first.options.userVerification, 'required');
      assert.equal(first.options.rpId, RP.id);
      assert.deepEqual(first.options.allowCredentials, [{ id: 'AAEC', transports: ['internal'], type: 'public-key' }]);
      assert.equal(first.options.challenge, first.challenge);
      assert.notEqual(first.challenge, second.challenge);
    });
  });

  describe('round trip', () => {
    test('registers an ES256 passkey, then signs in with it; the counter and last use advance', async () => {
      const device = authenticator();
      const row = await enrol(device, ada);
      assert.deepEqual({ ...row }, {
        id: device.credentialIds[0],
        account_id: ada.id,
        public_key: row.public_key,
        sign_count: 0,
        transports: '["internal","hybrid"]',
        device_type: 'singleDevice',
        backed_up: 0,
        name: 'Laptop',
        created_at: NOW.toISOString(),
        last_used_at: null,
      });
      assert.deepEqual(plain(await listPasskeys(db, ada.id)), [{ ...row }]);
      assert.equal(Buffer.from(row.public_key, 'base64url')[0], 0xa5, 'a COSE map of five entries (EC2 key)');

      const first = await assertion(device, ada.id);
      const used = await signIn(ada.id, first.response, first.challenge);
      assert.equal(used.sign_count, 1);
      assert.equal(used.last_used_at, LATER.toISOString());

      const second = await assertion(device, ada.id);
      assert.equal((await signIn(ada.id, second.response, second.challenge)).sign_count, 2);
      assert.deepEqual(plain(await listPasskeys(db, ada.id)), [{ ...row, sign_count: 2, last_used_at: LATER.toISOString() }]);
    });

    test('Ed25519 works too, and a synced passkey is recorded as backed up', async () => {
      const device = authenticator({ algorithm: 'Ed25519', backedUp: true });
      const row = await enrol(device, bob);
      assert.equal(row.device_type, 'multiDevice');
      assert.equal(row.backed_up, 1);
      const { response, challenge } = await assertion(device, bob.id);
      assert.equal((await signIn(bob.id, response, challenge)).sign_count, 1);
    });

    test('an authenticator that keeps its counter at zero is accepted (synced passkeys do this)', async () => {
      const device = authenticator();
      const row = await enrol(device, bob);
      for (let i = 0; i < 2; i++) {
        const { response, challenge } = await assertion(device, bob.id, { signCount: 0, credentialId: row.id });
        assert.equal((await signIn(bob.id, response, challenge)).sign_count, 0);
      }
    });
  });

  describe('registration is refused', () => {
    const account = bob;

    async function refuse(forgery: Forgery, reason: RegExp): Promise<void> {
      await refusedWithoutChange(() => enrol(authenticator(), account, forgery), 'auth.mfa_failed', reason);
    }

    test('for a response to another challenge', () => refuse({ challenge: Buffer.alloc(32, 7).toString('base64url') }, /challenge/));
    test('from another origin', () => refuse({ origin: 'https://console.rampart.test.evil.example' }, /origin/));
    test('for another RP id', () => refuse({ rpId: 'evil.example' }, /RP ID/));
    test('without user verification', () => refuse({ userVerified: false }, /verif/));
    test('without user presence', () => refuse({ userPresent: false }, /present/));
    test('for an assertion presented as a registration', () => refuse({ type: 'webauthn.get' }, /type/));

    test('when the response names another credential than the authenticator data', async () => {
      const { options, challenge } = await registrationOptions({ rp: RP, account, existing: [] });
      const honest = overTheWire(authenticator().register(options));
      const other = Buffer.alloc(32, 1).toString('base64url');
      const response: RegistrationResponseJSON = { ...honest, id: other, rawId: other };
      await refusedWithoutChange(() => verifyRegistration(db, { rp: RP, account, expectedChallenge: challenge, response, name: 'x', now: NOW }), 'auth.mfa_failed', /credential id/);
    });

    test('for a credential id already registered, to the same or another account', async () => {
      const { options, challenge } = await registrationOptions({ rp: RP, account: ada, existing: [] });
      const response = overTheWire(authenticator().register(options));
      const input = { rp: RP, account: ada, expectedChallenge: challenge, response, name: 'Phone', now: NOW };
      const row = await verifyRegistration(db, input);
      await refusedWithoutChange(() => verifyRegistration(db, input), 'identity.invalid_state', /already registered/);
      await refusedWithoutChange(() => enrol(authenticator(), bob, { credentialId: row.id }), 'identity.invalid_state', /already registered/);
      assert.equal((await db.selectFrom('passkeys').select('account_id').where('id', '=', row.id).executeTakeFirstOrThrow()).account_id, ada.id);
    });
  });

  describe('sign-in is refused', () => {
    const device = authenticator();
    let passkey: PasskeyRow;
    before(async () => {
      passkey = await enrol(device, ada);
      const { response, challenge } = await assertion(device, ada.id);
      passkey = await signIn(ada.id, response, challenge);
    });

    async function refuse(forgery: Forgery, reason: RegExp): Promise<void> {
      const { response, challenge } = await assertion(device, ada.id, { credentialId: passkey.id, ...forgery });
      await refusedWithoutChange(() => signIn(ada.id, response, challenge), 'auth.mfa_failed', reason);
    }

    test('for a response to another ceremony', async () => {
      const { response } = await assertion(device, ada.id, { credentialId: passkey.id });
      const other = await authenticationOptions({ rpId: RP.id, allow: [passkey] });
      await refusedWithoutChange(() => signIn(ada.id, response, other.challenge), 'auth.mfa_failed', /challenge/);
    });
    test('from another origin', () => refuse({ origin: 'https://evil.example' }, /origin/));
    test('for another RP id', () => refuse({ rpId: 'rampart.test' }, /RP ID/));
    test('without user verification', () => refuse({ userVerified: false }, /verif/));
    test('without user presence', () => refuse({ userPresent: false }, /present/));
    test('with a tampered signature', () => refuse({ alterSignature: true }, /signature did not verify/));
    test('for a registration presented as an assertion', () => refuse({ type: 'webauthn.create' }, /type/));

    test('for a replayed assertion (the same counter again)', async () => {
      const { response, challenge } = await assertion(device, ada.id, { credentialId: passkey.id });
      const used = await signIn(ada.id, response, challenge);
      await refusedWithoutChange(() => signIn(ada.id, response, challenge), 'auth.mfa_failed', /counter/);
      passkey = used;
    });

    test('for a cloned authenticator whose counter lags behind', () => refuse({ signCount: passkey.sign_count }, /counter/));
    test('for a counter that went backwards', () => refuse({ signCount: 1 }, /counter/));

    test('for a passkey of another account', async () => {
      const bobs = authenticator();
      await enrol(bobs, bob);
      const { response, challenge } = await assertion(bobs, bob.id);
      await refusedWithoutChange(() => signIn(ada.id, response, challenge), 'auth.mfa_failed', /not a passkey of account acct_ada/);
    });

    test('for an unknown credential', async () => {
      const stranger = authenticator();
      stranger.register((await registrationOptions({ rp: RP, account: ada, existing: [] })).options);
      const { options, challenge } = await authenticationOptions({ rpId: RP.id, allow: [] });
      const response = overTheWire(stranger.authenticate(options));
      await refusedWithoutChange(() => signIn(ada.id, response, challenge), 'auth.mfa_failed', /not a passkey/);
    });

    test('when the user handle names another account', async () => {
      const { response, challenge } = await assertion(device, ada.id, { credentialId: passkey.id });
      const forged = { ...response, response: { ...response.response, userHandle: Buffer.from(bob.id).toString('base64url') } };
      await refusedWithoutChange(() => signIn(ada.id, forged, challenge), 'auth.mfa_failed', /user handle/);
    });

    test('the honest authenticator still works afterwards', async () => {
      const { response, challenge } = await assertion(device, ada.id, { credentialId: passkey.id });
      const used = await signIn(ada.id, response, challenge);
      assert.ok(used.sign_count > passkey.sign_count);
    });
  });

  describe('management', () => {
    test('lists only the account\'s passkeys and deletes only its own', async () => {
      const device = authenticator();
      const row = await enrol(device, bob);
      assert.ok((await listPasskeys(db, bob.id)).some((p) => p.id === row.id));
      assert.ok((await listPasskeys(db, ada.id)).every((p) => p.account_id === ada.id));

      assert.equal(await deletePasskey(db, ada.id, row.id), false);
      assert.equal(await deletePasskey(db, bob.id, row.id), true);
      assert.equal(await deletePasskey(db, bob.id, row.id), false);
      assert.ok(!(await listPasskeys(db, bob.id)).some((p) => p.id === row.id));

      const { options, challenge } = await authenticationOptions({ rpId: RP.id, allow: [row] });
      await refusedWithoutChange(() => signIn(bob.id, overTheWire(device.authenticate(options)), challenge), 'auth.mfa_failed');
    });
  });

  describe('request body schemas', () => {
    async function bodies(device: SoftwareAuthenticator): Promise<{ registration: unknown; authentication: unknown }> {
      const created = await registrationOptions({ rp: RP, account: ada, existing: [] });
      const registration = overTheWire(device.register(created.options));
      const requested = await authenticationOptions({ rpId: RP.id, allow: [] });
      const authentication = overTheWire(device.authenticate(requested.options));
      return { registration, authentication };
    }

    test('accept what browsers send (ES256 and Ed25519), and the parsed bodies go straight into the service', async () => {
      for (const algorithm of ['ES256', 'Ed25519'] as const) {
        const device = authenticator({ algorithm });
        const { registration, authentication } = await bodies(device);
        assert.ok(Value.Check(RegistrationResponseSchema, registration), JSON.stringify([...Value.Errors(RegistrationResponseSchema, registration)]));
        assert.ok(Value.Check(AuthenticationResponseSchema, authentication), JSON.stringify([...Value.Errors(AuthenticationResponseSchema, authentication)]));
      }

      // Type level: a validated body is what the service takes.
      const created = await registrationOptions({ rp: RP, account: bob, existing: await listPasskeys(db, bob.id) });
      const device = authenticator();
      const registration: RegistrationResponseBody = Value.Parse(RegistrationResponseSchema, overTheWire(device.register(created.options)));
      const row = await verifyRegistration(db, { rp: RP, account: bob, expectedChallenge: created.challenge, response: registration, name: 'Key', now: NOW });
      const requested = await authenticationOptions({ rpId: RP.id, allow: [row] });
      const authentication: AuthenticationResponseBody = Value.Parse(AuthenticationResponseSchema, overTheWire(device.authenticate(requested.options)));
      assert.equal((await signIn(bob.id, authentication, requested.challenge)).sign_count, 1);
    });

    test('also accept the minimal form (no optional fields)', async () => {
      const { registration, authentication } = (await bodies(authenticator())) as { registration: RegistrationResponseJSON; authentication: AuthenticationResponseJSON };
      const { clientDataJSON, attestationObject } = registration.response;
      assert.ok(Value.Check(RegistrationResponseSchema, { id: registration.id, rawId: registration.rawId, type: 'public-key', response: { clientDataJSON, attestationObject }, clientExtensionResults: {} }));
      const { signature, authenticatorData } = authentication.response;
      const minimal = { id: authentication.id, rawId: authentication.rawId, type: 'public-key', response: { clientDataJSON: authentication.response.clientDataJSON, authenticatorData, signature }, clientExtensionResults: {} };
      assert.ok(Value.Check(AuthenticationResponseSchema, minimal));
      assert.ok(Value.Check(AuthenticationResponseSchema, { ...minimal, response: { ...minimal.response, userHandle: '' } }));
    });

    test('reject junk', async () => {
      const { registration, authentication } = (await bodies(authenticator())) as { registration: RegistrationResponseJSON; authentication: AuthenticationResponseJSON };
      const junkRegistrations: unknown[] = [
        null,
        'public-key',
        { ...registration, type: 'password' },
        { ...registration, extra: 1 },
        { ...registration, id: 'not+base64url/' },
        { ...registration, id: 'A'.repeat(1365) },
        { ...registration, rawId: '' },
        { ...registration, authenticatorAttachment: 'usb' },
        { ...registration, clientExtensionResults: [] },
        { ...registration, response: 'x' },
        { ...registration, response: { ...registration.response, transports: ['carrier-pigeon'] } },
        { ...registration, response: { ...registration.response, clientDataJSON: 'A'.repeat(8193) } },
        { ...registration, response: { ...registration.response, attestationObject: 'eyJ==' } },
        { ...registration, response: { ...registration.response, signature: 'AAAA' } },
        { ...registration, response: { ...registration.response, publicKeyAlgorithm: 'ES256' } },
        Object.fromEntries(Object.entries(registration).filter(([key]) => key !== 'clientExtensionResults')),
      ];
      for (const junk of junkRegistrations) assert.ok(!Value.Check(RegistrationResponseSchema, junk), JSON.stringify(junk).slice(0, 200));

      const junkAuthentications: unknown[] = [
        { ...authentication, type: 'Public-Key' },
        { ...authentication, extra: true },
        { ...authentication, response: { ...authentication.response, attestationObject: 'x'.repeat(40_000) } },
        { ...authentication, response: { ...authentication.response, signature: 'A'.repeat(2049) } },
        { ...authentication, response: { ...authentication.response, userHandle: 'A'.repeat(87) } },
        { ...authentication, response: { ...authentication.response, transports: ['usb'] } },
        { ...authentication, response: { clientDataJSON: authentication.response.clientDataJSON, signature: authentication.response.signature } },
      ];
      for (const junk of junkAuthentications) assert.ok(!Value.Check(AuthenticationResponseSchema, junk), JSON.stringify(junk).slice(0, 200));
    });
  });
});
