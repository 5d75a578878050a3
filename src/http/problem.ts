import Type from 'typebox';
import { errorCatalog, type ErrorCode } from '../kernel/error-catalog.ts';
import { isRampartError } from '../kernel/errors.ts';

// The one mapping from any thrown value to an RFC 9457 problem document.
// Only catalogue titles, public details and validation paths ever reach the
// client; messages, causes and stacks stay in the log under the request id.

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail?: string;
  readonly requestId: string;
  readonly errors?: readonly FieldError[];
}

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.Optional(Type.String()),
  requestId: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: ReadonlyArray<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
}

// Fastify's own error codes, mapped to ours.
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.malformed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed',
  FST_ERR_BAD_STATUS_CODE: 'internal',
};

export function problemFor(code: ErrorCode, requestId: string, extra: { detail?: string | undefined; errors?: FieldError[] } = {}): Problem {
  const spec = errorCatalog[code];
  return {
    type: `urn:rampart:problem:${code}`,
    title: spec.title,
    status: spec.status,
    code,
    ...(extra.detail === undefined ? {} : { detail: extra.detail }),
    requestId,
    ...(extra.errors === undefined ? {} : { errors: extra.errors }),
  };
}

export function toProblem(error: unknown, requestId: string): Problem {
  if (isRampartError(error)) return problemFor(error.code, requestId, { detail: error.publicDetail });
  const fastify = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const validation = fastify.validation;
  if (validation !== undefined) {
    const where = fastify.validationContext ?? 'body';
    const errors = validation.map((v) => ({
      field: `${where}${(v.instancePath ?? '').replaceAll('/', '.')}${typeof v.params?.['missingProperty'] === 'string' ? `.${v.params['missingProperty']}` : ''}${typeof v.params?.['additionalProperty'] === 'string' ? `.${v.params['additionalProperty']}` : ''}`,
      message: v.message ?? 'is invalid',
    }));
    return problemFor('request.invalid', requestId, { errors });
  }
  if (typeof fastify.code === 'string') {
    const mapped = FASTIFY_CODES[fastify.code];
    if (mapped !== undefined) return problemFor(mapped, requestId);
  }
  if (fastify.statusCode === 408) return problemFor('request.timeout', requestId);
  if (fastify.statusCode === 413) return problemFor('request.too_large', requestId);
  if (fastify.statusCode === 415) return problemFor('request.unsupported_media_type', requestId);
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) return problemFor('request.malformed', requestId);
  if (fastify.statusCode === 503) return problemFor('service.unavailable', requestId);
  return problemFor('internal', requestId);
}
