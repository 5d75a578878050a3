import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Selectable } from 'kysely';
import Type, { type Static } from 'typebox';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import type { PasskeyTable } from '../../storage/tables.ts';

// Passkeys (WebAuthn) as a second factor. This module runs the ceremonies and
// keeps the `passkeys` table; the caller keeps the challenge on the session
// (it is single-use there) and hands the expected value back for verification.
// Every ceremony requires user verification. A failed verification is always
// `auth.mfa_failed`: the reason goes into the message, for logs only.

export type PasskeyRow = Selectable<PasskeyTable>;

export interface RelyingParty {
  /** The RP id: the registrable domain the console is served from. */
  readonly id: string;
  /** The exact origins a ceremony may come from. */
  readonly origins: readonly string[];
}

/** What the ceremony options need of a stored passkey. */
export type PasskeyDescriptor = Pick<PasskeyRow, 'id' | 'transports'>;

export interface PasskeyAccount {
  readonly id: string;
  readonly username: string;
}

/** What the browser's navigator.credentials.create()/get() is called with, and the challenge to keep. */
export interface Ceremony<Options> {
  readonly options: Options;
  readonly challenge: string;
}

/** Ed25519, ES256, RS256: offered at registration and the only algorithms accepted back. */
export const PASSKEY_ALGORITHMS = [-8, -7, -257] as const;

export const PASSKEY_TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'] as const;

// ---------------------------------------------------------------- request bodies

const BASE64URL = '^[A-Za-z0-9_-]+$';
const b64url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: BASE64URL });
/** A credential id is at most 1023 bytes. */
const CredentialId = b64url(1364);
const ClientDataJSON = b64url(8192);
const Transports = Type.Array(Type.Enum(PASSKEY_TRANSPORTS), { maxItems: PASSKEY_TRANSPORTS.length });
const Attachment = Type.Enum(['platform', 'cross-platform']);
/** Extension outputs (e.g. `credProps`): an object, kept small. */
const ExtensionResults = Type.Object({}, { additionalProperties: true, maxProperties: 16 });

/** The JSON of the PublicKeyCredential navigator.credentials.create() returned (`toJSON()`). */
export const RegistrationResponseSchema = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: ClientDataJSON,
        attestationObject: b64url(32_768),
        authenticatorData: Type.Optional(b64url(16_384)),
        transports: Type.Optional(Transports),
        publicKeyAlgorithm: Type.Optional(Type.Integer({ minimum: -65_536, maximum: 65_535 })),
        publicKey: Type.Optional(b64url(4096)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Attachment),
    clientExtensionResults: ExtensionResults,
  },
  { additionalProperties: false },
);
export type RegistrationResponseBody = Static<typeof RegistrationResponseSchema>;

/** The JSON of the PublicKeyCredential navigator.credentials.get() returned (`toJSON()`). */
export const AuthenticationResponseSchema = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: ClientDataJSON,
        authenticatorData: b64url(16_384),
        signature: b64url(2048),
        /** At most 64 bytes; some clients send an empty one for "none". */
        userHandle: Type.Optional(Type.String({ maxLength: 86, pattern: '^[A-Za-z0-9_-]*$' })),
        attestationObject: Type.Optional(b64url(32_768)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Attachment),
    clientExtensionResults: ExtensionResults,
  },
  { additionalProperties: false },
);
export type AuthenticationResponseBody = Static<typeof AuthenticationResponseSchema>;

// ---------------------------------------------------------------- ceremonies

function transportsOf(row: PasskeyDescriptor): string[] {
  const parsed: unknown = JSON.parse(row.transports);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

const descriptor = (row: PasskeyDescriptor) => ({ id: row.id, transports: transportsOf(row) });

function refused(reason: string, cause?: unknown): RampartError {
  return new RampartError('auth.mfa_failed', `passkey refused: ${reason}`, cause === undefined ? {} : { cause });
}

/** Runs a library verification; whatever it throws becomes `auth.mfa_failed`. */
async function verifying<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw refused(`${what}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

export async function registrationOptions(input: {
  rp: { id: string; name: string };
  account: PasskeyAccount;
  existing: readonly PasskeyDescriptor[];
}): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
  const options = await generateRegistrationOptions({
    rpID: input.rp.id,
    rpName: input.rp.name,
    userID: new TextEncoder().encode(input.account.id),
    userName: input.account.username,
    userDisplayName: input.account.username,
    attestationType: 'none',
    excludeCredentials: input.existing.map(descriptor),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
  });
  return { options, challenge: options.challenge };
}

/**
 * Verifies a registration and stores the passkey (in `db`, which may be a
 * transaction). A credential id registered before, to any account, is refused.
 */
export async function verifyRegistration(
  db: Db,
  input: { rp: RelyingParty; account: { id: string }; expectedChallenge: string; response: RegistrationResponseJSON; name: string; now: Date },
): Promise<PasskeyRow> {
  const result = await verifying('registration', () =>
    verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...input.rp.origins],
      expectedRPID: input.rp.id,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
    }),
  );
  if (!result.verified) throw refused('registration did not verify');
  const info = result.registrationInfo;
  if (!info.userVerified) throw refused('registration without user verification');
  if (info.credential.id !== input.response.id) throw refused('credential id in the response differs from the authenticator data');

  const known = new Set<string>(PASSKEY_TRANSPORTS);
  const row: PasskeyRow = {
    id: info.credential.id,
    account_id: input.account.id,
    public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
    sign_count: info.credential.counter,
    transports: JSON.stringify((input.response.response.transports ?? []).filter((t) => known.has(t))),
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp ? 1 : 0,
    name: input.name,
    created_at: input.now.toISOString(),
    last_used_at: null,
  };
  const inserted = await db.insertInto('passkeys').values(row).onConflict((c) => c.column('id').doNothing()).returningAll().executeTakeFirst();
  if (inserted === undefined) throw new RampartError('identity.invalid_state', `passkey ${row.id} is already registered`);
  return inserted;
}

export async function authenticationOptions(input: { rpId: string; allow: readonly PasskeyDescriptor[] }): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
  const options = await generateAuthenticationOptions({
    rpID: input.rpId,
    allowCredentials: input.allow.map(descriptor),
    userVerification: 'required',
  });
  return { options, challenge: options.challenge };
}

/**
 * Verifies an assertion by one of `accountId`'s passkeys and advances its
 * signature counter. A counter that does not increase, when either side is
 * non-zero, means a cloned authenticator (or a replay): refused.
 */
export async function verifyAuthentication(
  db: Db,
  input: { rp: RelyingParty; accountId: string; expectedChallenge: string; response: AuthenticationResponseJSON; now: Date },
): Promise<PasskeyRow> {
  const { response } = input;
  const row = await db.selectFrom('passkeys').selectAll().where('id', '=', response.id).where('account_id', '=', input.accountId).executeTakeFirst();
  if (row === undefined) throw refused(`credential ${response.id} is not a passkey of account ${input.accountId}`);
  const userHandle = response.response.userHandle ?? '';
  if (userHandle !== '' && userHandle !== Buffer.from(input.accountId).toString('base64url')) throw refused('user handle names another account');

  const result = await verifying('assertion', () =>
    verifyAuthenticationResponse({
      response,
      expectedChallenge: input.expectedChallenge,
      expectedOrigin: [...input.rp.origins],
      expectedRPID: input.rp.id,
      credential: { id: row.id, publicKey: Buffer.from(row.public_key, 'base64url'), counter: row.sign_count, transports: transportsOf(row) },
      requireUserVerification: true,
    }),
  );
  const info = result.authenticationInfo;
  if (!result.verified) throw refused('signature did not verify');
  if (!info.userVerified) throw refused('assertion without user verification');
  if ((info.newCounter > 0 || row.sign_count > 0) && info.newCounter <= row.sign_count) {
    throw refused(`signature counter ${info.newCounter} did not increase past ${row.sign_count}: possible cloned authenticator`);
  }

  // Compare-and-set on the counter: of two concurrent uses of one assertion, one wins.
  const updated = await db
    .updateTable('passkeys')
    .set({ sign_count: info.newCounter, backed_up: info.credentialBackedUp ? 1 : 0, last_used_at: input.now.toISOString() })
    .where('id', '=', row.id)
    .where('account_id', '=', input.accountId)
    .where('sign_count', '=', row.sign_count)
    .returningAll()
    .executeTakeFirst();
  if (updated === undefined) throw refused(`passkey ${row.id} was used concurrently`);
  return updated;
}

// ---------------------------------------------------------------- management

export async function listPasskeys(db: Db, accountId: string): Promise<PasskeyRow[]> {
  return db.selectFrom('passkeys').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

/** Deletes one of the account's passkeys; false when it has no such passkey. */
export async function deletePasskey(db: Db, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('passkeys').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
