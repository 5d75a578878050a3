import Type from 'typebox';
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
