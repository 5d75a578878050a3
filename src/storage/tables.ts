import type { Generated } from 'kysely';

// Row shapes of every table, as Kysely sees them. Times are ISO-8601 UTC strings
// on both dialects (the PostgreSQL adapter converts timestamptz to that form).

export interface KeyringStateTable {
  id: number;
  kek_fingerprint: string;
  created_at: string;
}

export interface DataKeyTable {
  id: string;
  purpose: string;
  /** active: encrypts new values · retiring: decrypts only, being re-encrypted away · retired: material destroyed */
  status: 'active' | 'retiring' | 'retired';
  wrapped_key: string | null;
  created_at: string;
  retired_at: string | null;
}

export interface SigningKeyTable {
  kid: string;
  purpose: string;
  alg: 'EdDSA';
  /** active: signs · verify_only: published in the JWKS so old signatures still verify */
  status: 'active' | 'verify_only';
  public_jwk: string;
  wrapped_private_key: string;
  created_at: string;
  rotated_at: string | null;
}

export interface AccountTable {
  id: string;
  username: string;
  role: 'admin' | 'dispatcher' | 'driver' | 'auditor';
  status: 'setup_required' | 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}

export interface SetupCodeTable {
  id: string;
  account_id: string;
  code_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface Tables {
  keyring_state: KeyringStateTable;
  data_keys: DataKeyTable;
  signing_keys: SigningKeyTable;
  accounts: AccountTable;
  setup_codes: SetupCodeTable;
}

export type { Generated };
