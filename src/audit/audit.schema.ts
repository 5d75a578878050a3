import Type from 'typebox';
import type { ProblemKind } from './problems.ts';
import { QUERY_LIMIT_DEFAULT, QUERY_LIMIT_MAX } from './query.ts';

// Wire shapes of the audit API. Rows are presented by query.ts's presentEntry,
// never serialised directly.

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AuditQuerySchema = Type.Object(
  {
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Actor id: account, service principal or OS user.' })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z_.]+$', description: 'Exact action, e.g. `auth.login`.' })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Target id.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time (ISO 8601).' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or before this time (ISO 8601).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'The `nextCursor` of the previous page.' })),
    limit: Type.Integer({ minimum: 1, maximum: QUERY_LIMIT_MAX, default: QUERY_LIMIT_DEFAULT }),
  },
  { additionalProperties: false },
);

export const AuditItemSchema = Type.Object(
  {
    seq: Type.Integer(),
    id: Type.String(),
    at: Type.String(),
    actor: Type.Object({ type: Type.String(), id: NullableString, authMethod: NullableString }, { additionalProperties: false }),
    action: Type.String(),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    target: Type.Union([Type.Object({ type: NullableString, id: NullableString }, { additionalProperties: false }), Type.Null()]),
    context: Type.Object({ sourceIp: NullableString, userAgent: NullableString, requestId: NullableString }, { additionalProperties: false }),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'Non-secret facts about the change.' }),
    hash: Type.String({ description: 'The entry\'s chain hash (hex SHA-256).' }),
  },
  { additionalProperties: false },
);

export const AuditPageSchema = Type.Object({ items: Type.Array(AuditItemSchema), nextCursor: NullableString }, { additionalProperties: false });

export const AuditEntryParams = Type.Object({ seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The entry\'s position in the chain.' }) }, { additionalProperties: false });

export const AuditExportQuerySchema = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Entries at or after this time (ISO 8601), plus the one before them so the first link can be checked; as `rampart audit export --since`.' })),
  },
  { additionalProperties: false },
);

const PROBLEM_KINDS = ['modified', 'deleted', 'inserted', 'reordered', 'truncated', 'checkpoint_invalid', 'checkpoint_mismatch'] as const satisfies readonly ProblemKind[];
const ProblemKindSchema = Type.Enum([...PROBLEM_KINDS]);

const AuditProblemSchema = Type.Object(
  {
    seq: Type.Union([Type.Integer(), Type.Null()], { description: 'The first affected entry, in the numbering it was hashed with; null for an entry stored without a seq.' }),
    kind: ProblemKindSchema,
    message: Type.String(),
  },
  { additionalProperties: false },
);

export const AuditVerificationSchema = Type.Object(
  {
    ok: Type.Boolean({ description: 'Every entry\'s hash and link, every checkpoint\'s signature and the end of the chain verified.' }),
    entries: Type.Integer({ description: 'Entries examined.' }),
    checkpoints: Type.Integer({ description: 'Checkpoints examined.' }),
    head: Type.Union([Type.Object({ seq: Type.Integer(), hash: Type.String() }, { additionalProperties: false }), Type.Null()], { description: 'Where the chain should end (the head record).' }),
    lastCheckpoint: Type.Union([Type.Object({ seq: Type.Integer(), at: Type.String() }, { additionalProperties: false }), Type.Null()], { description: 'The newest checkpoint that verified and still matches its entry.' }),
    problemCount: Type.Integer({ description: 'Every problem found, including those not listed.' }),
    problems: Type.Array(AuditProblemSchema, { description: 'The earliest problems (at most 100), earliest first.' }),
    firstProblem: Type.Union([AuditProblemSchema, Type.Null()]),
  },
  { additionalProperties: false },
);

export const AuditVerifyProgressSchema = Type.Object(
  {
    running: Type.Boolean({ description: 'A verification is under way.' }),
    done: Type.Integer({ description: 'Entries checked so far (reported every few hundred).' }),
    total: Type.Integer({ description: 'Entries stored when it began.' }),
  },
  { additionalProperties: false },
);
