import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Db } from '../../storage/database.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import { exportProofBundle, receiptJwks, type ImageRole, type ImageType, type ProofFacts, type ProofPersonalData, type Relationship, type SignedProofBundle } from './core/index.ts';
import { imageRef, imagesOf, loadProof, personalRef, storedFacts, storedRecord, type ProofRow } from './proofs.store.ts';

// Stored proofs after delivery: reading them (personal data decrypted after
// the query, each read audited), their images, the signed export, and
// shredding — on request, or by the retention pass once
// `personal_expires_at` has passed. Shredding deletes the images and the
// personal part's ciphertext; the facts, the content hash and the receipt stay,
// so the receipt keeps verifying against the stored record.

export interface ProofView {
  readonly proofId: string;
  readonly receiptId: string;
  readonly shipmentId: string;
  readonly receipt: string;
  readonly contentHash: string;
  readonly locationVerified: boolean;
  readonly facts: ProofFacts;
  /** The signer as recorded; null once the personal data was shredded. */
  readonly signer: { readonly name: string; readonly relationship: Relationship } | null;
  readonly personalData: 'present' | 'shredded';
  readonly personalExpiresAt: string;
  readonly personalShreddedAt: string | null;
  readonly images: Array<{ readonly role: ImageRole; readonly contentType: ImageType; readonly sha256: string }>;
  readonly createdAt: string;
}

export type ShredReason = 'retention' | 'erasure_request';

export class ProofArchive {
  readonly #db: Db;
  readonly #keyring: Keyring;
  readonly #clock: Clock;

  constructor(options: { db: Db; keyring: Keyring; clock: Clock }) {
    this.#db = options.db;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
  }

  async #personal(row: ProofRow): Promise<ProofPersonalData | null> {
    if (row.personal === null) return null;
    return JSON.parse(await this.#keyring.decryptFieldText(personalRef(row.id), row.personal)) as ProofPersonalData;
  }

  /** The proof with its signer's name decrypted; the read is audited. */
  async read(row: ProofRow, trackingNumber: string, change: AuditedChange): Promise<ProofView> {
    const [personal, images] = await Promise.all([this.#personal(row), imagesOf(this.#db, row.id)]);
    const facts = storedFacts(row);
    await this.#db.transaction().execute((trx) => recordChange(trx, this.#clock, change, 'pod.read', { type: 'proof', id: row.id }, { trackingNumber, personalData: personal === null ? 'shredded' : 'present' }));
    return {
      proofId: row.id,
      receiptId: row.receipt_id,
      shipmentId: row.shipment_id,
      receipt: row.receipt,
      contentHash: row.content_hash,
      locationVerified: row.location_verified === 1,
      facts,
      signer: personal === null ? null : { name: personal.signer_name, relationship: facts.relationship },
      personalData: personal === null ? 'shredded' : 'present',
      personalExpiresAt: row.personal_expires_at,
      personalShreddedAt: row.personal_shredded_at,
      images: images.map((i) => ({ role: i.role, contentType: i.content_type, sha256: i.sha256 })),
      createdAt: row.created_at,
    };
  }

  /** One image's bytes, decrypted; audited. 410 once shredded, 404 when the proof has no such image. */
  async image(row: ProofRow, role: ImageRole, trackingNumber: string, change: AuditedChange): Promise<{ contentType: ImageType; bytes: Buffer }> {
    if (row.personal_shredded_at !== null) throw shredded(row.id);
    const stored = await this.#db.selectFrom('proof_images').selectAll().where('proof_id', '=', row.id).where('role', '=', role).executeTakeFirst();
    if (stored === undefined) throw new RampartError('proof.not_found', `proof ${row.id} has no ${role} image`, { publicDetail: `This proof has no ${role} image.` });
    const bytes = await this.#keyring.decryptField(imageRef(stored.id), stored.bytes);
    await this.#db.transaction().execute((trx) => recordChange(trx, this.#clock, change, 'pod.image_read', { type: 'proof', id: row.id }, { trackingNumber, role, sha256: stored.sha256 }));
    return { contentType: stored.content_type, bytes };
  }

  /** The signed export bundle (record, images still held, receipt, receipt keys); audited. */
  async export(row: ProofRow, trackingNumber: string, change: AuditedChange): Promise<SignedProofBundle> {
    const personal = await this.#personal(row);
    const images: { signature?: Buffer; photo?: Buffer } = {};
    if (personal !== null) {
      const stored = await this.#db.selectFrom('proof_images').selectAll().where('proof_id', '=', row.id).execute();
      for (const image of stored) images[image.role] = await this.#keyring.decryptField(imageRef(image.id), image.bytes);
    }
    const bundle = await exportProofBundle({ record: storedRecord(row, personal), images, receipt: row.receipt, jwks: await receiptJwks(this.#db), keyring: this.#keyring, clock: this.#clock });
    await this.#db.transaction().execute((trx) =>
      recordChange(trx, this.#clock, change, 'pod.export', { type: 'proof', id: row.id }, { trackingNumber, personalData: personal === null ? 'shredded' : 'present', images: Object.keys(images) }),
    );
    return bundle;
  }

  /**
   * Deletes the images and the personal part of one proof (crypto-shredding:
   * the ciphertexts go, so nothing decrypts to them again). Audited. Returns
   * false when it had been shredded already (and writes nothing).
   */
  async shred(proofId: string, reason: ShredReason, change: AuditedChange): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await loadProof(trx, proofId);
      if (row.personal_shredded_at !== null) return false;
      const at = this.#clock.now().toISOString();
      const images = await trx.deleteFrom('proof_images').where('proof_id', '=', proofId).executeTakeFirst();
      await trx.updateTable('proofs').set({ personal: null, personal_shredded_at: at }).where('id', '=', proofId).where('personal_shredded_at', 'is', null).execute();
      const facts = storedFacts(row);
      await recordChange(trx, this.#clock, change, 'pod.shred', { type: 'proof', id: proofId }, { trackingNumber: facts.tracking_number, reason, imagesDeleted: Number(images.numDeletedRows), dueAt: row.personal_expires_at });
      return true;
    });
  }

  /** Shreds every proof whose personal data is past its retention; returns how many. */
  async shredExpired(limit = 500): Promise<number> {
    const due = await this.#db
      .selectFrom('proofs')
      .select('id')
      .where('personal_shredded_at', 'is', null)
      .where('personal_expires_at', '<=', this.#clock.now().toISOString())
      .orderBy('personal_expires_at')
      .limit(limit)
      .execute();
    let shredded = 0;
    for (const { id } of due) if (await this.shred(id, 'retention', { actor: { type: 'system' } })) shredded++;
    return shredded;
  }
}

export function shredded(proofId: string): RampartError {
  return new RampartError('proof.personal_data_shredded', `proof ${proofId} was shredded`, { publicDetail: 'The personal data and images of this proof were shredded; the receipt still verifies.' });
}

const RETENTION_MS = 3_600_000;

/** Hourly crypto-shredding of proofs past `delivery.proofRetentionYears`; the returned function stops it. */
export function startProofRetention(archive: ProofArchive, logger: Logger): () => void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      let total = 0;
      for (let batch = await archive.shredExpired(); batch > 0; batch = await archive.shredExpired()) total += batch;
      if (total > 0) logger.info({ shredded: total }, 'proof-of-delivery personal data shredded after its retention period');
    } catch (error) {
      logger.warn({ err: error }, 'proof retention failed; retrying in an hour');
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), RETENTION_MS);
  timer.unref();
  return () => clearInterval(timer);
}
