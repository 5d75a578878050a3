// Every column that holds a keyring ciphertext. The purpose picks the data key;
// `rampart keys rotate` walks this list to re-encrypt values under new keys.
// Features add their columns here when they add them to the schema.

export interface EncryptedColumn {
  readonly table: string;
  /** Primary-key column; its value is bound into each ciphertext. */
  readonly idColumn: string;
  readonly column: string;
  /** `personal` for personal data, `secret` for credentials. */
  readonly purpose: 'personal' | 'secret' | (string & {});
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'totp_factors', idColumn: 'account_id', column: 'secret', purpose: 'secret' },
  { table: 'devices', idColumn: 'id', column: 'primary_key', purpose: 'secret' },
  { table: 'devices', idColumn: 'id', column: 'secondary_key', purpose: 'secret' },
  { table: 'shipments', idColumn: 'id', column: 'recipient_name', purpose: 'personal' },
  { table: 'shipments', idColumn: 'id', column: 'recipient_phone', purpose: 'personal' },
  { table: 'shipments', idColumn: 'id', column: 'recipient_address', purpose: 'personal' },
  { table: 'shipment_events', idColumn: 'id', column: 'note', purpose: 'personal' },
  { table: 'webhook_endpoints', idColumn: 'id', column: 'secret', purpose: 'secret' },
  { table: 'shipments', idColumn: 'id', column: 'delivery_pin', purpose: 'personal' },
  { table: 'proofs', idColumn: 'id', column: 'personal', purpose: 'personal' },
  { table: 'proof_images', idColumn: 'id', column: 'bytes', purpose: 'personal' },
];
