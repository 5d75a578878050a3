import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { recordChange, type AuditedChange } from '../../audit/append.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { canonicalJson } from '../../kernel/canonical-json.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import type { Tables } from '../../storage/tables.ts';
import { checkProofSubmission, createProofOfDelivery, personalDataExpiresAt, pinMatches, proofFacts, type AcceptedProof, type ProofOfDelivery, type ProofSubmission } from './core/index.ts';
import { markStopDelivered } from '../routes/index.ts';
import type { ShipmentLifecycle } from '../shipments/lifecycle.ts';
import type { ShipmentSummary } from '../shipments/shipments.store.ts';
import { findProofByKey, imageRef, personalRef, requestFingerprint, submittedView, type SubmittedProof } from './proofs.store.ts';
import type { ProofSettings } from './settings.ts';

// Taking a proof of delivery from the driver app. Everything slow or keyed
// happens before the transaction: the checks, image decoding and the receipt
// signature (accept), the PIN's decryption and the encryption of the personal
// part and the images. The transaction then stores the proof, makes the
// shipment `delivered` through the lifecycle, marks its route stop delivered
// and writes the audit entry, so all of it commits or none does. The driver app's idempotency key makes a
// retry after a lost answer safe: an identical submission gets the original
// receipt back, a different one under the same key is refused.

/** Wrong PINs accepted before proofs are refused until a new PIN is issued. */
export const MAX_PIN_FAILURES = 5;

const PIN_STATUSES = ['created', 'assigned', 'out_for_delivery', 'failed'] as const;

export interface SubmitOutcome {
  /** False when this was an identical retry answered with the stored proof. */
  readonly created: boolean;
  readonly proof: SubmittedProof;
}

interface Sealed {
  readonly proofId: string;
  readonly personal: string;
  readonly images: ReadonlyArray<{ id: string; role: 'signature' | 'photo'; contentType: 'image/png' | 'image/jpeg'; sha256: string; ciphertext: string }>;
}

function refuse(code: 'proof.requirement_missing' | 'proof.pin_locked' | 'proof.pin_mismatch', detail: string): RampartError {
  return new RampartError(code, `proof of delivery refused: ${detail}`, { publicDetail: detail });
}

function notOutForDelivery(shipment: { id: string; status: string }): RampartError {
  const detail = `The shipment is ${shipment.status}, not out for delivery with you.`;
  return new RampartError('proof.not_out_for_delivery', `shipment ${shipment.id} is ${shipment.status}`, { publicDetail: detail });
}

export class ProofIntake {
  readonly #db: Db;
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #lifecycle: ShipmentLifecycle;
  readonly #settings: ProofSettings;
  readonly #pod: ProofOfDelivery;

  constructor(options: { db: Db; keyring: Keyring; clock: Clock; lifecycle: ShipmentLifecycle; settings: ProofSettings }) {
    this.#db = options.db;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    this.#lifecycle = options.lifecycle;
    this.#settings = options.settings;
    this.#pod = createProofOfDelivery({
      keyring: options.keyring,
      clock: options.clock,
      limits: options.settings.limits,
      issuer: options.settings.issuer,
      ...(options.settings.rules === undefined ? {} : { rules: options.settings.rules }),
    });
  }

  /**
   * Accepts a proof for `shipment` (which the caller has checked `driverId`
   * may see) from `body` (unknown input). Throws having stored nothing but,
   * for a wrong PIN, the counted attempt and its audit entry.
   */
  async submit(shipment: ShipmentSummary, driverId: string, body: unknown, change: AuditedChange): Promise<SubmitOutcome> {
    const submission = checkProofSubmission(body, this.#settings.limits, this.#settings.rules);
    const fingerprint = requestFingerprint(shipment.id, submission);
    const replay = await this.#replay(this.#db, driverId, submission.idempotencyKey, fingerprint);
    if (replay !== undefined) return { created: false, proof: replay };
    if (shipment.status !== 'out_for_delivery' || shipment.assignedDriverId !== driverId) throw notOutForDelivery(shipment);

    const pinVerified = await this.#checkRequirements(shipment, submission, change);
    const accepted = await this.#pod.accept(submission, { trackingNumber: shipment.trackingNumber, shipmentId: shipment.id, driverId, destination: shipment.destination, pinVerified });
    const sealed = await this.#seal(accepted);
    try {
      return await this.#db.transaction().execute(async (trx) => {
        // An identical submission may have been stored while this one was being checked.
        const raced = await this.#replay(trx, driverId, submission.idempotencyKey, fingerprint);
        if (raced !== undefined) return { created: false, proof: raced };
        const current = await trx.selectFrom('shipments').select(['id', 'status', 'assigned_driver_id']).where('id', '=', shipment.id).executeTakeFirstOrThrow();
        if (current.status !== 'out_for_delivery' || current.assigned_driver_id !== driverId) throw notOutForDelivery(current);
        await this.#insert(trx, { accepted, sealed, driverId, idempotencyKey: submission.idempotencyKey, fingerprint });
        await this.#lifecycle.transition(trx, { ...change, shipmentId: shipment.id, to: 'delivered' });
        const { record } = accepted;
        const stop = await markStopDelivered(trx, shipment.id, record.server_time);
        // Non-personal facts only: no name, strokes, images or PIN.
        await recordChange(trx, this.#clock, change, 'pod.create', { type: 'proof', id: sealed.proofId }, {
          trackingNumber: shipment.trackingNumber,
          shipment: shipment.id,
          receiptId: record.receipt_id,
          contentHash: accepted.claims.content_hash,
          locationVerified: record.location_verified,
          distanceM: record.distance_m,
          pinVerified: record.pin_verified,
          relationship: record.relationship,
          photo: accepted.images.photo !== undefined,
          routeStop: stop?.stopId ?? null,
        });
        return { created: true, proof: { proofId: sealed.proofId, receiptId: record.receipt_id, receipt: accepted.receipt, locationVerified: record.location_verified, contentHash: accepted.claims.content_hash } };
      });
    } catch (error) {
      // A concurrent identical submission committed first (a unique index stopped this one): answer with it.
      const winner = await this.#replay(this.#db, driverId, submission.idempotencyKey, fingerprint);
      if (winner !== undefined) return { created: false, proof: winner };
      throw error;
    }
  }

  /** The stored proof when this key was used before with the same content; a conflict when with other content. */
  async #replay(db: Kysely<Tables>, driverId: string, idempotencyKey: string, fingerprint: string): Promise<SubmittedProof | undefined> {
    const row = await findProofByKey(db, driverId, idempotencyKey);
    if (row === undefined) return undefined;
    if (row.request_fingerprint !== fingerprint) {
      throw new RampartError('proof.idempotency_conflict', `idempotency key of proof ${row.id} reused with other content`, {
        publicDetail: 'This idempotency key was already used for a different proof of delivery; a retry must repeat the submission exactly.',
      });
    }
    return submittedView(row);
  }

  /** The shipment's required proof; returns whether a PIN was verified. A wrong PIN is counted and audited. */
  async #checkRequirements(shipment: ShipmentSummary, submission: ProofSubmission, change: AuditedChange): Promise<boolean> {
    if (shipment.requiredProof.includes('photo') && submission.photo === undefined) throw refuse('proof.requirement_missing', 'This shipment requires a photo.');
    const requiresPin = shipment.requiredProof.includes('pin');
    const row = await this.#db.selectFrom('shipments').select(['delivery_pin', 'delivery_pin_failures']).where('id', '=', shipment.id).executeTakeFirstOrThrow();
    if (row.delivery_pin === null) {
      if (requiresPin) throw refuse('proof.requirement_missing', 'This shipment requires a delivery PIN, and none has been issued yet.');
      return false;
    }
    if (submission.pin === undefined) {
      if (requiresPin) throw refuse('proof.requirement_missing', 'This shipment requires the delivery PIN.');
      return false;
    }
    if (row.delivery_pin_failures >= MAX_PIN_FAILURES) throw refuse('proof.pin_locked', 'Too many wrong PINs: a new PIN must be issued.');
    const pin = await this.#keyring.decryptFieldText({ table: 'shipments', column: 'delivery_pin', rowId: shipment.id }, row.delivery_pin);
    if (pinMatches(submission.pin, pin)) return true;
    await this.#db.transaction().execute(async (trx) => {
      // Counted against the PIN that was checked: a PIN issued meanwhile starts afresh.
      await trx.updateTable('shipments').set((eb) => ({ delivery_pin_failures: eb('delivery_pin_failures', '+', 1) })).where('id', '=', shipment.id).where('delivery_pin', '=', row.delivery_pin).execute();
      await recordChange(trx, this.#clock, change, 'pod.create', { type: 'shipment', id: shipment.id }, { trackingNumber: shipment.trackingNumber, reason: 'pin_mismatch', failures: row.delivery_pin_failures + 1 }, 'failure');
    });
    throw refuse('proof.pin_mismatch', 'The delivery PIN is wrong.');
  }

  /** Ids for the new rows and the ciphertexts bound to them. */
  async #seal(accepted: AcceptedProof): Promise<Sealed> {
    const proofId = newId('pod');
    const personal = await this.#keyring.encryptField(personalRef(proofId), canonicalJson(accepted.record.personal));
    const images = [];
    for (const image of [accepted.images.signature, accepted.images.photo]) {
      if (image === undefined) continue;
      const id = newId('pimg');
      images.push({ id, role: image.role, contentType: image.contentType, sha256: image.sha256, ciphertext: await this.#keyring.encryptField(imageRef(id), image.bytes) });
    }
    return { proofId, personal, images };
  }

  async #insert(trx: Kysely<Tables>, input: { accepted: AcceptedProof; sealed: Sealed; driverId: string; idempotencyKey: string; fingerprint: string }): Promise<void> {
    const { accepted, sealed } = input;
    const { record } = accepted;
    const now = this.#clock.now().toISOString();
    await trx
      .insertInto('proofs')
      .values({
        id: sealed.proofId,
        receipt_id: record.receipt_id,
        shipment_id: record.shipment_id,
        driver_id: input.driverId,
        idempotency_key: input.idempotencyKey,
        request_fingerprint: input.fingerprint,
        content_hash: accepted.claims.content_hash,
        receipt: accepted.receipt,
        facts: canonicalJson(proofFacts(record)),
        personal: sealed.personal,
        server_time: record.server_time,
        location_verified: record.location_verified ? 1 : 0,
        personal_expires_at: personalDataExpiresAt(record.server_time, this.#settings.retentionYears).toISOString(),
        personal_shredded_at: null,
        created_at: now,
      })
      .execute();
    for (const image of sealed.images) {
      await trx.insertInto('proof_images').values({ id: image.id, proof_id: sealed.proofId, role: image.role, content_type: image.contentType, sha256: image.sha256, bytes: image.ciphertext, created_at: now }).execute();
    }
  }

  /**
   * Issues a new six-digit delivery PIN (CSPRNG) for a shipment not yet
   * delivered or returned, replacing any earlier one and its count of wrong
   * attempts. Returned once; stored only encrypted.
   */
  async issuePin(shipmentId: string, change: AuditedChange): Promise<string> {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const ciphertext = await this.#keyring.encryptField({ table: 'shipments', column: 'delivery_pin', rowId: shipmentId }, pin);
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('shipments').select(['id', 'status', 'tracking_number']).where('id', '=', shipmentId).executeTakeFirst();
      if (row === undefined) throw new RampartError('shipment.not_found', `no shipment ${shipmentId}`);
      const now = this.#clock.now().toISOString();
      const updated = await trx.updateTable('shipments').set({ delivery_pin: ciphertext, delivery_pin_failures: 0, updated_at: now }).where('id', '=', shipmentId).where('status', 'in', PIN_STATUSES).executeTakeFirst();
      if (updated.numUpdatedRows !== 1n) throw new RampartError('shipment.pin_not_possible', `shipment ${shipmentId} is ${row.status}`, { publicDetail: `The shipment is ${row.status}: no PIN can be issued.` });
      await recordChange(trx, this.#clock, change, 'shipment.pin_issue', { type: 'shipment', id: shipmentId }, { trackingNumber: row.tracking_number });
    });
    return pin;
  }
}
