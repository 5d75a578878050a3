import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.ts';
import { ACCOUNT_ID_PATTERN } from '../checks.ts';
import { DepotIdSchema, LimitSchema, NextCursor, PointSchema } from '../schemas.ts';
import { MAX_ADDRESS, MAX_DIMENSION_CM, MAX_RECIPIENT_NAME, MAX_WEIGHT_KG, PHONE_PATTERN, REFERENCE_PATTERN } from './shipments.input.ts';
import { SHIPMENT_SORTS } from './shipments.query.ts';
import { DELIVERY_MODES, PROOF_KINDS } from './shipments.store.ts';
import { FAILURE_REASONS, MAX_NOTE_LENGTH, SHIPMENT_STATUSES } from './status.ts';

// The shipment API's request and response shapes. Unknown properties are refused everywhere.

export const StatusSchema = Type.Enum(SHIPMENT_STATUSES);
export const ModeSchema = Type.Enum(DELIVERY_MODES);
export const ReasonSchema = Type.Enum(FAILURE_REASONS);
export const ShipmentIdSchema = Type.String({ pattern: '^shp_[A-Za-z0-9_-]{22}$' });
export const IdParams = Type.Object({ id: ShipmentIdSchema }, { additionalProperties: false });
const Timestamp = Type.String({ maxLength: 40, description: 'ISO-8601 time with an offset, e.g. 2026-05-04T09:00:00+02:00.' });
const Dimension = Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: MAX_DIMENSION_CM }), Type.Null()]);

export const WindowSchema = Type.Object({ start: Timestamp, end: Timestamp }, { additionalProperties: false, description: 'The delivery time window.' });
export const ProofSchema = Type.Array(Type.Enum(PROOF_KINDS), { minItems: 1, maxItems: PROOF_KINDS.length, uniqueItems: true, description: 'Proof the recipient must give (default: signature).' });
const NameField = Type.String({ minLength: 1, maxLength: MAX_RECIPIENT_NAME });
const PhoneField = Type.Union([Type.String({ pattern: PHONE_PATTERN }), Type.Null()]);
const AddressField = Type.String({ minLength: 1, maxLength: MAX_ADDRESS });
const ReferenceField = Type.Union([Type.String({ pattern: REFERENCE_PATTERN }), Type.Null()], { description: 'The sender\'s own reference; unique.' });

export const CreateBody = Type.Object(
  {
    depotId: DepotIdSchema,
    reference: Type.Optional(ReferenceField),
    recipient: Type.Object({ name: NameField, phone: Type.Optional(PhoneField), address: AddressField }, { additionalProperties: false }),
    destination: PointSchema,
    parcel: Type.Object(
      { weightKg: Type.Number({ exclusiveMinimum: 0, maximum: MAX_WEIGHT_KG }), lengthCm: Type.Optional(Dimension), widthCm: Type.Optional(Dimension), heightCm: Type.Optional(Dimension) },
      { additionalProperties: false },
    ),
    mode: ModeSchema,
    window: WindowSchema,
    requiredProof: Type.Optional(ProofSchema),
  },
  { additionalProperties: false },
);

export const PatchBody = Type.Object(
  {
    reference: Type.Optional(ReferenceField),
    recipient: Type.Optional(Type.Object({ name: Type.Optional(NameField), phone: Type.Optional(PhoneField), address: Type.Optional(AddressField) }, { additionalProperties: false, minProperties: 1 })),
    destination: Type.Optional(PointSchema),
    parcel: Type.Optional(
      Type.Object(
        { weightKg: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_WEIGHT_KG })), lengthCm: Type.Optional(Dimension), widthCm: Type.Optional(Dimension), heightCm: Type.Optional(Dimension) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    mode: Type.Optional(ModeSchema),
    window: Type.Optional(WindowSchema),
    requiredProof: Type.Optional(ProofSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const StatusBody = Type.Object(
  {
    status: Type.Enum(['out_for_delivery', 'delivered', 'failed', 'returned'], { description: '`delivered` only comes with proof of delivery; `returned` needs shipment.manage.' }),
    reason: Type.Optional(ReasonSchema),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NOTE_LENGTH, description: 'Required with reason `other`; encrypted; never in the audit trail.' })),
  },
  { additionalProperties: false },
);

export const AssignBody = Type.Object({ driverId: Type.String({ pattern: ACCOUNT_ID_PATTERN }) }, { additionalProperties: false });

const Filters = {
  depot: Type.Optional(DepotIdSchema),
  status: Type.Optional(Type.Array(StatusSchema, { maxItems: SHIPMENT_STATUSES.length, description: 'Repeat for several.' })),
  mode: Type.Optional(ModeSchema),
  driver: Type.Optional(Type.String({ pattern: ACCOUNT_ID_PATTERN, description: 'Assigned driver account id.' })),
  windowFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting at or after this time.' })),
  windowTo: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting before this time.' })),
};

export const ListQuery = Type.Object(
  {
    ...Filters,
    q: Type.Optional(Type.String({ maxLength: 64, description: 'A tracking number (any spelling) or part of one, or a sender reference.' })),
    sort: Type.Optional(Type.Enum(SHIPMENT_SORTS, { default: 'createdAt' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'Default: newest first for createdAt, ascending otherwise.' })),
    limit: LimitSchema,
    cursor: Type.Optional(Type.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object(Filters, { additionalProperties: false });

export const ImportQuery = Type.Object(
  {
    depot: Type.Optional(DepotIdSchema),
    skipInvalid: Type.Boolean({ default: false, description: 'Import the valid rows and report the others, instead of refusing the whole file.' }),
  },
  { additionalProperties: false },
);

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const SummarySchema = Type.Object({
  id: Type.String(),
  trackingNumber: Type.String(),
  reference: Nullable(Type.String()),
  depotId: Type.String(),
  mode: ModeSchema,
  status: StatusSchema,
  failureReason: Nullable(ReasonSchema),
  destination: Type.Object({ lat: Type.Number(), lon: Type.Number() }),
  parcel: Type.Object({ weightKg: Type.Number(), lengthCm: Nullable(Type.Number()), widthCm: Nullable(Type.Number()), heightCm: Nullable(Type.Number()) }),
  window: Type.Object({ start: Type.String(), end: Type.String() }),
  requiredProof: Type.Array(Type.String()),
  assignedDriverId: Nullable(Type.String()),
  lastEventAt: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const DetailSchema = Type.Object({
  ...SummarySchema.properties,
  recipient: Nullable(Type.Object({ name: Type.String(), phone: Nullable(Type.String()), address: Type.String() }), ),
});

export const ListResponse = Type.Object({ items: Type.Array(SummarySchema), nextCursor: NextCursor });

export const HistorySchema = Type.Object({
  items: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      from: Nullable(StatusSchema),
      to: StatusSchema,
      reason: Nullable(ReasonSchema),
      hasNote: Type.Boolean(),
      note: Nullable(Type.String()),
      driverId: Nullable(Type.String()),
      actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
      at: Type.String(),
    }),
  ),
});

export const TokenIssued = Type.Object({
  trackingToken: Type.String({ description: 'Shown only in this response; the link is trackingPath on the app plane.' }),
  trackingPath: Type.String(),
});

export const ImportReportSchema = Type.Object({
  created: Type.Array(Type.Object({ row: Type.Integer(), id: Type.String(), trackingNumber: Type.String(), trackingToken: Type.String(), trackingPath: Type.String() })),
  skipped: Type.Array(Type.Object({ row: Type.Integer(), column: Type.String(), message: Type.String() })),
});

export const ImportProblemSchema = Type.Object({ ...ProblemSchema.properties, rows: Type.Optional(Type.Array(Type.Object({ row: Type.Integer(), column: Type.String(), message: Type.String() }))) });
