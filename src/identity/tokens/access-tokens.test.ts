import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { Keyring } from '../../crypto/keyring.ts';
import * as keyStore from '../../crypto/keyring.store.ts';
import { ManualClock } from '../../kernel/clock.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../test/support/databases.ts';
import { hasCode } from '../../../test/support/errors.ts';
import { masterKey } from '../../../test/support/keys.ts';
import { createAccessTokenVerifier, issueAccessToken, MAX_TOKEN_TTL_SECONDS, type AccessTokenVerifier, type TokenConfig } from './access-tokens.ts';
import { principalVersion, ServicePrincipals, type ChangeBy, type ServicePrincipal } from './principals.ts';

const BY: ChangeBy = { actor: { type: 'cli', id: 'operator' } };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access tokens', () => {
  let opened: OpenedDatabase;
  let keyring: Keyring;
  let principals: ServicePrincipals;
  let config: TokenConfig;
  let verify: AccessTokenVerifier;
  let reader: ServicePrincipal;
  const clock = new ManualClock();

  before(async () => {
    opened = await sqliteTarget.open();
    keyring = await Keyring.open({ database: opened.database, masterKey: masterKey(), clock, columns: [] });
    principals = new ServicePrincipals({ database: opened.database, clock });
    config = opened.config.identity.tokens;
    verify = createAccessTokenVerifier({ db: opened.database.db, keyring, clock, config });
    reader = (await principals.create({ name: 'telemetry-reader', scopes: ['telemetry.read'] }, BY)).principal;
  });
  after(() => opened.cleanup());

  const issue = (principal: ServicePrincipal = reader) => issueAccessToken({ keyring, clock, config, principal, scopes: principal.scopes });
  const refused = hasCode('auth.token_invalid');
  /** Refused for the reason the test is about (the log message names it). */
  const refusedFor = (reason: RegExp) => hasCode('auth.token_invalid', reason);

  /** Claims exactly as Rampart issues them, for `principal`, with `overrides`. */
  function claims(principal: ServicePrincipal, overrides: JWTPayload = {}): JWTPayload {
    const now = Math.floor(clock.now().getTime() / 1000);
    return {
      iss: config.issuer,
      aud: config.audience,
      sub: principal.id,
      client_id: principal.clientId,
      scope: principal.scopes.join(' '),
      iat: now,
      nbf: now,
      exp: now + 60,
      jti: 'forged-token-id',
      rampart_pv: principalVersion(principal),
      ...overrides,
    };
  }

  async function forge(key: KeyObject | Uint8Array, header: JWTHeaderParameters, payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader(header).sign(key);
  }

  async function tokenKey() {
    return keyring.signingKey('token');
  }

  test('an issued token verifies to the service actor', async () => {
    const issued = await issue();
    const header = decodeProtectedHeader(issued.accessToken);
    const payload = decodeJwt(issued.accessToken);
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'at+jwt', kid: (await tokenKey()).kid });
    assert.equal(payload.iss, 'urn:rampart');
    assert.equal(payload.aud, 'urn:rampart:api');
    assert.equal(payload.sub, reader.id);
    assert.equal(payload['client_id'], reader.clientId);
    assert.equal(payload['scope'], 'telemetry.read');
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp! - payload.iat!, 300);
    assert.equal(payload.jti, issued.tokenId);
    assert.match(issued.tokenId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(issued.expiresIn, 300);
    assert.equal(issued.tokenType, 'Bearer');

    const actor = await verify(issued.accessToken);
    assert.deepEqual(actor, { kind: 'service', id: reader.id, name: 'telemetry-reader', scopes: ['telemetry.read'], tokenId: issued.tokenId });
  });

  test('a hand-made token with every claim right verifies (so the refusals below refuse one thing each)', async () => {
    const key = await tokenKey();
    const actor = await verify(await forge(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, claims(reader)));
    assert.equal(actor.id, reader.id);
  });

  test('no token is issued to a disabled principal, nor for no scopes or scopes it was not granted', async () => {
    await assert.rejects(issueAccessToken({ keyring, clock, config, principal: { ...reader, status: 'disabled' }, scopes: ['telemetry.read'] }), hasCode('identity.invalid_state', /is disabled: no token/));
    await assert.rejects(issueAccessToken({ keyring, clock, config, principal: reader, scopes: [] }), hasCode('request.invalid', /not a non-empty subset/));
    await assert.rejects(issueAccessToken({ keyring, clock, config, principal: reader, scopes: ['telemetry.read', 'device.read'] }), hasCode('request.invalid', /not a non-empty subset/));
  });

  test('the lifetime never exceeds 10 minutes, whatever the configuration says', async () => {
    const issued = await issueAccessToken({ keyring, clock, config: { ...config, ttlSeconds: 86_400 }, principal: reader, scopes: ['telemetry.read'] });
    assert.equal(issued.expiresIn, MAX_TOKEN_TTL_SECONDS);
    const payload = decodeJwt(issued.accessToken);
    assert.equal(payload.exp! - payload.iat!, MAX_TOKEN_TTL_SECONDS);
  });

  test('refuses an unsigned (alg: none) token', async () => {
    const key = await tokenKey();
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64(claims(reader))}.`;
    await assert.rejects(verify(token), refusedFor(/ALG_NOT_ALLOWED/));
    const signedPart = (await issue()).accessToken.split('.');
    await assert.rejects(verify(`${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${signedPart[1]}.`), refusedFor(/ALG_NOT_ALLOWED/));
  });

  test('refuses HS256 tokens keyed with the public key (algorithm confusion)', async () => {
    const key = await tokenKey();
    const jwk = (await keyring.publicJwks()).keys.find((k) => k.kid === key.kid)!;
    const secrets = [
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(JSON.stringify(jwk)),
      Buffer.from(key.privateKey.export({ format: 'jwk' }).x!, 'base64url'),
    ];
    for (const secret of secrets) {
      await assert.rejects(verify(await forge(secret, { alg: 'HS256', typ: 'at+jwt', kid: key.kid }, claims(reader))), refusedFor(/ALG_NOT_ALLOWED/));
    }
  });

  test('refuses a wrong audience, a wrong issuer and a wrong or missing type', async () => {
    const key = await tokenKey();
    const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid };
    await assert.rejects(verify(await forge(key.privateKey, header, claims(reader, { aud: 'urn:elsewhere:api' }))), refusedFor(/"aud"/));
    await assert.rejects(verify(await forge(key.privateKey, header, claims(reader, { iss: 'urn:not-rampart' }))), refusedFor(/"iss"/));
    await assert.rejects(verify(await forge(key.privateKey, { ...header, typ: 'JWT' }, claims(reader))), refusedFor(/"typ"/));
    await assert.rejects(verify(await forge(key.privateKey, { alg: 'EdDSA', kid: key.kid }, claims(reader))), refusedFor(/"typ"/));
  });

  test('refuses a token signed by a key that is not in the keyring', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await assert.rejects(verify(await forge(privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: 'sk_not-in-the-keyring' }, claims(reader))), refusedFor(/unknown key/));
    await assert.rejects(verify(await forge(privateKey, { alg: 'EdDSA', typ: 'at+jwt' }, claims(reader))), refusedFor(/names no key/), 'no kid at all');
  });

  test('refuses a token that names a known kid but was signed by another key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await assert.rejects(verify(await forge(privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: (await tokenKey()).kid }, claims(reader))), refusedFor(/SIGNATURE_VERIFICATION_FAILED/));
  });

  test('refuses a token signed by another purpose\'s key (receipts, audit checkpoints)', async () => {
    const receiptKey = await keyring.signingKey('receipt');
    await assert.rejects(verify(await forge(receiptKey.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: receiptKey.kid }, claims(reader))), refusedFor(/unknown key/));
  });

  test('refuses a tampered payload', async () => {
    const both = (await principals.create({ name: 'narrow', scopes: ['telemetry.read'] }, BY)).principal;
    const [header, , signature] = (await issue(both)).accessToken.split('.');
    const widened = b64({ ...decodeJwt((await issue(both)).accessToken), scope: 'telemetry.read device.read' });
    await assert.rejects(verify(`${header}.${widened}.${signature}`), refusedFor(/SIGNATURE_VERIFICATION_FAILED/));
    const otherSubject = b64({ ...decodeJwt((await issue(both)).accessToken), sub: reader.id });
    await assert.rejects(verify(`${header}.${otherSubject}.${signature}`), refusedFor(/SIGNATURE_VERIFICATION_FAILED/));
  });

  test('refuses an expired token (beyond 5 s of tolerance) and one not yet valid', async () => {
    const issued = await issue();
    clock.advance((300 + 4) * 1000);
    assert.equal((await verify(issued.accessToken)).id, reader.id, 'within the tolerance');
    clock.advance(2 * 1000);
    await assert.rejects(verify(issued.accessToken), refusedFor(/EXPIRED/));

    const key = await tokenKey();
    const now = Math.floor(clock.now().getTime() / 1000);
    const future = claims(reader, { iat: now + 60, nbf: now + 60, exp: now + 120 });
    await assert.rejects(verify(await forge(key.privateKey, { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid }, future)), refusedFor(/"nbf"/));
  });

  test('refuses a token whose lifetime exceeds the hard cap, or lacks a required claim', async () => {
    const key = await tokenKey();
    const header = { alg: 'EdDSA', typ: 'at+jwt', kid: key.kid };
    const now = Math.floor(clock.now().getTime() / 1000);
    await assert.rejects(verify(await forge(key.privateKey, header, claims(reader, { exp: now + MAX_TOKEN_TTL_SECONDS + 1 }))), refusedFor(/lifetime/));
    for (const claim of ['jti', 'client_id', 'scope', 'exp', 'sub', 'rampart_pv']) {
      const partial = Object.fromEntries(Object.entries(claims(reader)).filter(([name]) => name !== claim));
      await assert.rejects(verify(await forge(key.privateKey, header, partial)), refusedFor(new RegExp(`missing required "${claim}"`)), claim);
    }
    await assert.rejects(verify(await forge(key.privateKey, header, claims(reader, { client_id: 'sp_someone-else' }))), refusedFor(/client_id does not match/));
    await assert.rejects(verify(await forge(key.privateKey, header, claims(reader, { scope: 'telemetry.read user.manage' }))), refusedFor(/not grantable/));
    await assert.rejects(verify('not a token'), refused);
    await assert.rejects(verify(''), refused);
  });

  test('disabling a principal stops its tokens at once; enabling it again does not revive them', async () => {
    const { principal } = await principals.create({ name: 'to-disable', scopes: ['device.read'] }, BY);
    const issued = await issue(principal);
    assert.equal((await verify(issued.accessToken)).id, principal.id);
    await principals.disable(principal.id, BY);
    await assert.rejects(verify(issued.accessToken), refusedFor(/is disabled/));
    const enabled = await principals.enable(principal.id, BY);
    await assert.rejects(verify(issued.accessToken), refusedFor(/changed since the token was issued/));
    assert.equal((await verify((await issue(enabled)).accessToken)).id, principal.id, 'a fresh token works');
  });

  test('rotating the secret ends the tokens issued before it', async () => {
    const { principal } = await principals.create({ name: 'to-rotate', scopes: ['device.read'] }, BY);
    const issued = await issue(principal);
    const rotated = await principals.rotateSecret(principal.id, BY);
    await assert.rejects(verify(issued.accessToken), refusedFor(/changed since the token was issued/));
    assert.equal((await verify((await issue(rotated!.principal)).accessToken)).id, principal.id);
  });

  test('refuses a token whose scope is no longer granted', async () => {
    const { principal } = await principals.create({ name: 'shrinking', scopes: ['telemetry.read', 'device.read'] }, BY);
    const issued = await issue(principal);
    await opened.database.db.updateTable('service_principals').set({ scopes: JSON.stringify(['device.read']) }).where('id', '=', principal.id).execute();
    await assert.rejects(verify(issued.accessToken), refusedFor(/no longer granted/));
    await opened.database.db.deleteFrom('service_principals').where('id', '=', principal.id).execute();
    await assert.rejects(verify(issued.accessToken), refusedFor(/does not exist/), 'nor when the principal is gone');
  });

  test('a token signed before a key rotation still verifies until it expires; new tokens use the new key', async () => {
    const before = await issue();
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    assert.equal((await verify(before.accessToken)).id, reader.id, 'fills the verifier\'s key cache');

    // As rotateKeys does for signing keys: demote the active key to verify_only and add a new active one.
    await opened.database.db.transaction().execute(async (trx) => {
      const active = await keyStore.findActiveSigningKey(trx, 'token');
      await keyStore.demoteSigningKey(trx, active!.kid, clock.now().toISOString());
      await keyStore.insertSigningKey(trx, keyring.newSigningKeyRow('token'));
    });
    keyring.forgetActiveKeys();

    const afterRotation = await issue();
    const newKid = decodeProtectedHeader(afterRotation.accessToken).kid;
    assert.notEqual(newKid, oldKid);
    assert.equal((await verify(afterRotation.accessToken)).id, reader.id, 'an unknown kid makes the verifier look again');
    assert.equal((await verify(before.accessToken)).id, reader.id, 'the verify_only key still verifies');
    const status = await opened.database.db.selectFrom('signing_keys').select('status').where('kid', '=', oldKid!).executeTakeFirstOrThrow();
    assert.equal(status.status, 'verify_only');

    clock.advance(306 * 1000);
    await assert.rejects(verify(before.accessToken), refusedFor(/EXPIRED/));
  });
});
