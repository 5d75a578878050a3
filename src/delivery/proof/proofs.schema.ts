import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.ts';
import { MAX_JWS_LENGTH, PHOTO_TYPES, ProofFactsSchema, RELATIONSHIPS } from './core/index.ts';
import { ShipmentIdSchema, StatusSchema } from '../shipments/shipments.schema.ts';
import { Errors } from '../schemas.ts';

// Request and response shapes of the proof-of-delivery routes. Unknown properties are refused everywhere.

export const ProofErrors = { ...Errors, 410: ProblemSchema, 413: ProblemSchema };

export const ProofIdSchema = Type.String({ pattern: '^pod_[A-Za-z0-9_-]{22}$', description: 'Proof id.' });
export const ImageRoleSchema = Type.Enum(['signature', 'photo']);
export const DriverShipmentParams = Type.Object({ shipmentId: ShipmentIdSchema }, { additionalProperties: false });
export const ProofIdParams = Type.Object({ id: ProofIdSchema }, { additionalProperties: false });
export const ImageParams = Type.Object({ id: ProofIdSchema, role: ImageRoleSchema }, { additionalProperties: false });
const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const SubmittedSchema = Type.Object(
  {
    proofId: ProofIdSchema,
    receiptId: Type.String(),
    receipt: Type.String({ description: 'The signed receipt (compact JWS) for the customer; check it at /r/{receiptId}.' }),
    locationVerified: Type.Boolean({ description: 'False when the GPS fix was farther than delivery.proofRadiusMeters from the destination (the proof is kept, flagged).' }),
    contentHash: Sha256Hex,
  },
  { additionalProperties: false },
);

export const ProofViewSchema = Type.Object(
  {
    proofId: ProofIdSchema,
    receiptId: Type.String(),
    shipmentId: Type.String(),
    receipt: Type.String(),
    contentHash: Sha256Hex,
    locationVerified: Type.Boolean(),
    facts: ProofFactsSchema,
    signer: Type.Union([Type.Object({ name: Type.String(), relationship: Type.Enum([...RELATIONSHIPS]) }, { additionalProperties: false }), Type.Null()], { description: 'Null once the personal data was shredded.' }),
    personalData: Type.Enum(['present', 'shredded']),
    personalExpiresAt: Type.String(),
    personalShreddedAt: Type.Union([Type.String(), Type.Null()]),
    images: Type.Array(Type.Object({ role: ImageRoleSchema, contentType: Type.Enum([...PHOTO_TYPES]), sha256: Sha256Hex }, { additionalProperties: false })),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);

export const PinIssuedSchema = Type.Object(
  { shipmentId: ShipmentIdSchema, pin: Type.String({ pattern: '^[0-9]{6}$', description: 'Shown once: give it to the recipient, who tells it to the driver at the door.' }) },
  { additionalProperties: false },
);

export const ShredResultSchema = Type.Object({ proofId: ProofIdSchema, shredded: Type.Boolean({ description: 'False when it had been shredded before.' }) }, { additionalProperties: false });

export const ReceiptIdParams = Type.Object({ receiptId: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export const ReceiptQuery = Type.Object({ receipt: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_JWS_LENGTH, description: 'The receipt (compact JWS) to check.' })) }, { additionalProperties: false });
export const ReceiptBody = Type.String({ minLength: 1, maxLength: MAX_JWS_LENGTH, description: 'The receipt (compact JWS), as text/plain or application/jwt.' });

export const ReceiptStatusSchema = Type.Object(
  {
    receiptId: Type.String(),
    shipmentStatus: StatusSchema,
    deliveredAt: Type.String(),
    locationVerified: Type.Boolean(),
    verification: Type.Optional(Type.Object({ genuine: Type.Boolean(), unaltered: Type.Boolean(), problem: Type.Optional(Type.String()) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
