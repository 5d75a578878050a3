import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import { ProblemSchema } from '../http/problem.ts';
import { auditActor, auditContext } from '../identity/access.ts';
import { DEPOT_ID_PATTERN, MAX_NAME_LENGTH, UNIT_ID_PATTERN } from './checks.ts';
import type { AuditedChange } from '../audit/append.ts';
import { MAX_RING_POSITIONS, MAX_RINGS } from './depots/service-area.ts';

// TypeBox pieces the delivery routes share. Every object rejects unknown properties.

export const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export const DepotIdSchema = Type.String({ pattern: DEPOT_ID_PATTERN, description: 'Depot id.' });
export const UnitIdSchema = Type.String({ pattern: UNIT_ID_PATTERN });
export const NameSchema = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
export const LimitSchema = Type.Integer({ minimum: 1, maximum: 100, default: 25 });
export const SearchSchema = Type.String({ maxLength: 64 });
export const NextCursor = Type.Union([Type.String(), Type.Null()]);

export const PointSchema = Type.Object(
  { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
  { additionalProperties: false, description: 'WGS 84 latitude and longitude in degrees.' },
);

export const ServiceAreaSchema = Type.Object(
  {
    type: Type.Literal('Polygon'),
    coordinates: Type.Array(Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), { minItems: 4, maxItems: MAX_RING_POSITIONS }), { minItems: 1, maxItems: MAX_RINGS }),
  },
  { additionalProperties: false, description: 'GeoJSON Polygon: [longitude, latitude] positions; the outer ring, then holes; each ring closed.' },
);

export function changeOf(request: FastifyRequest): AuditedChange {
  return { actor: auditActor(request.actor), context: auditContext(request) };
}

/** Drops undefined values so optional fields stay absent (exactOptionalPropertyTypes). */
export function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
