import { sql, type Kysely } from 'kysely';
import type { ColumnTypes } from './index.ts';

// Proofs of delivery. A proof keeps its non-personal facts as canonical JSON
// (they hash to the receipt's content hash) and its personal part (salt,
// signer name, signature strokes) as a keyring ciphertext (purpose `personal`)
// bound to the row; shredding sets that column to null and deletes the images,
// whose bytes are ciphertexts bound to their own rows. A shipment that needs a
// delivery PIN holds it encrypted too, with a count of wrong attempts.

export function proofs(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('proofs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('receipt_id', 'text', (c) => c.notNull().unique())
        // One proof per shipment: `delivered` is final.
        .addColumn('shipment_id', 'text', (c) => c.notNull().unique().references('shipments.id'))
        .addColumn('driver_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        // SHA-256 (hex) of the canonical JSON of the shipment id and the submission: tells a retry from a reuse of its key.
        .addColumn('request_fingerprint', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        // The compact JWS handed to the customer.
        .addColumn('receipt', 'text', (c) => c.notNull())
        // Canonical JSON of the record without its personal part.
        .addColumn('facts', 'text', (c) => c.notNull())
        // Keyring ciphertext of the personal part's canonical JSON; null once shredded.
        .addColumn('personal', 'text')
        .addColumn('server_time', types.timestamp, (c) => c.notNull())
        .addColumn('location_verified', 'integer', (c) => c.notNull().check(sql`location_verified in (0, 1)`))
        .addColumn('personal_expires_at', types.timestamp, (c) => c.notNull())
        .addColumn('personal_shredded_at', types.timestamp)
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      // A driver's retry finds its proof by its key; another driver's key is another proof.
      await db.schema.createIndex('proofs_idempotency').on('proofs').columns(['driver_id', 'idempotency_key']).unique().execute();
      // What retention looks for: unshredded proofs by due date.
      await db.schema.createIndex('proofs_retention').on('proofs').columns(['personal_shredded_at', 'personal_expires_at']).execute();

      await db.schema
        .createTable('proof_images')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('proof_id', 'text', (c) => c.notNull().references('proofs.id'))
        .addColumn('role', 'text', (c) => c.notNull().check(types.oneOf('role', ['signature', 'photo'])))
        .addColumn('content_type', 'text', (c) => c.notNull().check(types.oneOf('content_type', ['image/png', 'image/jpeg'])))
        .addColumn('sha256', 'text', (c) => c.notNull())
        // Keyring ciphertext of the image bytes.
        .addColumn('bytes', 'text', (c) => c.notNull())
        .addColumn('created_at', types.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('proof_images_role').on('proof_images').columns(['proof_id', 'role']).unique().execute();

      // Keyring ciphertext of the six-digit PIN the recipient tells the driver; null: none issued.
      await db.schema.alterTable('shipments').addColumn('delivery_pin', 'text').execute();
      // Wrong PINs submitted since the PIN was issued; at the limit proofs are refused until a new PIN is issued.
      await db.schema.alterTable('shipments').addColumn('delivery_pin_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
