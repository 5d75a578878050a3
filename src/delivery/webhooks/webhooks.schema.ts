import Type from 'typebox';
import { ProblemSchema } from '../../http/problem.ts';
import { DELIVERY_STATUSES } from './deliveries.store.ts';
import { DELIVERY_ID_PATTERN, ENDPOINT_ID_PATTERN, ENDPOINT_STATUSES, MAX_NAME_LENGTH, MAX_URL_LENGTH } from './endpoints.ts';
import { SHIPMENT_EVENT_TYPES } from './events.ts';

// Request and response schemas of the webhook administration API. Unknown
// properties are refused everywhere; secrets appear only in EndpointCreated.

const Id = Type.String({ pattern: ENDPOINT_ID_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
const Url = Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, description: 'https:// (plain http:// only to addresses in `webhooks.allowPrivateCidrs`); no user name or password.' });
const Events = Type.Array(Type.Enum(SHIPMENT_EVENT_TYPES), { minItems: 1, maxItems: SHIPMENT_EVENT_TYPES.length, uniqueItems: true });
const Status = Type.Enum(ENDPOINT_STATUSES);
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 25 });

export const EndpointIdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const DeliveryRetryParams = Type.Object({ id: Id, deliveryId: Type.String({ pattern: DELIVERY_ID_PATTERN }) }, { additionalProperties: false });

export const EndpointSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  status: Status,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const EndpointCreated = Type.Object({
  endpoint: EndpointSchema,
  secret: Type.String({ description: '`whsec_` + base64 of 32 random bytes: the HMAC-SHA256 key receivers verify signatures with. Shown only in this response.' }),
});

export const NewEndpoint = Type.Object({ name: Name, url: Url, events: Events }, { additionalProperties: false });

export const EndpointPatch = Type.Object(
  { name: Type.Optional(Name), url: Type.Optional(Url), events: Type.Optional(Events), status: Type.Optional(Status) },
  { additionalProperties: false, minProperties: 1 },
);

export const EndpointQuery = Type.Object({ limit: Limit, cursor: Type.Optional(Id) }, { additionalProperties: false });
export const EndpointPage = Type.Object({ items: Type.Array(EndpointSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const DeliveryQuery = Type.Object(
  { status: Type.Optional(Type.Enum(DELIVERY_STATUSES)), limit: Limit, cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,200}$' })) },
  { additionalProperties: false },
);

export const DeliverySchema = Type.Object({
  id: Type.String(),
  endpointId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  status: Type.Enum(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastAttemptAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  payload: Type.String({ description: 'The JSON body, exactly as sent and signed.' }),
});

export const DeliveryPage = Type.Object({ items: Type.Array(DeliverySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const Errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
