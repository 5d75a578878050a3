import type { Kysely, Selectable } from 'kysely';
import { recordChange, type AuditedChange, type JsonValue } from '../../audit/append.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Db } from '../../storage/database.ts';
import { pageAfterKey } from '../../storage/listing.ts';
import type { Tables, WebhookEndpointTable } from '../../storage/tables.ts';
import { deliveryView, findDelivery, listDeliveries, requeueDelivery, type DeliveryQuery, type DeliveryView } from './deliveries.store.ts';
import { SHIPMENT_EVENT_TYPES, type ShipmentEventType } from './events.ts';
import { newWebhookSecret } from './signing.ts';
import type { DestinationGuard } from './ssrf.ts';

// Webhook endpoints, for the admin API. The signing secret is generated here,
// returned once (at creation and at rotation) and stored only as a keyring
// ciphertext bound to its row; it is encrypted before the transaction opens.
// Every change and its audit entry commit together; audit entries name the
// URL's origin only, since paths and queries sometimes carry receivers' tokens.

export const ENDPOINT_ID_PATTERN = '^whk_[A-Za-z0-9_-]{22}$';
export const DELIVERY_ID_PATTERN = '^whd_[A-Za-z0-9_-]{22}$';
export const ENDPOINT_STATUSES = ['enabled', 'disabled'] as const;
export const MAX_NAME_LENGTH = 100;
export const MAX_URL_LENGTH = 2048;

export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

export type WebhookChange = AuditedChange;

export interface EndpointView {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly events: ShipmentEventType[];
  readonly status: EndpointStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewEndpoint {
  readonly name: string;
  readonly url: string;
  readonly events: readonly ShipmentEventType[];
}

export interface EndpointPatch {
  readonly name?: string;
  readonly url?: string;
  readonly events?: readonly ShipmentEventType[];
  readonly status?: EndpointStatus;
}

type Row = Selectable<WebhookEndpointTable>;
const VIEW_COLUMNS = ['id', 'name', 'url', 'events', 'status', 'created_at', 'updated_at'] as const;
type ViewRow = Pick<Row, (typeof VIEW_COLUMNS)[number]>;

function view(row: ViewRow): EndpointView {
  return { id: row.id, name: row.name, url: row.url, events: JSON.parse(row.events) as ShipmentEventType[], status: row.status, createdAt: row.created_at, updatedAt: row.updated_at };
}

function invalid(message: string): RampartError {
  return new RampartError('request.invalid', message, { publicDetail: message });
}

function origin(url: string): string {
  return new URL(url).origin;
}

function checkName(name: string): void {
  const printable = !Array.from(name).some((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH || !printable) throw invalid(`The name is 1–${MAX_NAME_LENGTH} printable characters.`);
}

function checkEvents(events: readonly string[]): string {
  if (events.length === 0 || new Set(events).size !== events.length || events.some((e) => !(SHIPMENT_EVENT_TYPES as readonly string[]).includes(e))) {
    throw invalid(`Events are one or more distinct values of ${SHIPMENT_EVENT_TYPES.join(', ')}.`);
  }
  // Stored in the catalogue's order, so equal subscriptions compare equal.
  return JSON.stringify(SHIPMENT_EVENT_TYPES.filter((e) => events.includes(e)));
}

export interface WebhookEndpointsOptions {
  readonly db: Db;
  readonly keyring: Pick<Keyring, 'encryptField'>;
  readonly clock: Clock;
  readonly guard: DestinationGuard;
}

export class WebhookEndpoints {
  readonly #db: Db;
  readonly #keyring: Pick<Keyring, 'encryptField'>;
  readonly #clock: Clock;
  readonly #guard: DestinationGuard;

  constructor(options: WebhookEndpointsOptions) {
    this.#db = options.db;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    this.#guard = options.guard;
  }

  #checkUrl(url: string): string {
    if (url.length > MAX_URL_LENGTH) throw invalid(`The URL is at most ${MAX_URL_LENGTH} characters.`);
    return this.#guard.checkUrl(url).href;
  }

  #audit(trx: Kysely<Tables>, change: WebhookChange, action: string, id: string, details: Record<string, JsonValue>) {
    return recordChange(trx, this.#clock, change, action, { type: 'webhook_endpoint', id }, details);
  }

  async #load(db: Kysely<Tables>, id: string): Promise<ViewRow> {
    const row = await db.selectFrom('webhook_endpoints').select(VIEW_COLUMNS).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new RampartError('webhook.not_found', `no webhook endpoint ${id}`);
    return row;
  }

  #encrypt(id: string, secret: string): Promise<string> {
    return this.#keyring.encryptField({ table: 'webhook_endpoints', column: 'secret', rowId: id }, secret);
  }

  /** Adds an endpoint (enabled); its signing secret is returned here and never again. */
  async create(input: NewEndpoint, change: WebhookChange): Promise<{ endpoint: EndpointView; secret: string }> {
    checkName(input.name);
    const url = this.#checkUrl(input.url);
    const events = checkEvents(input.events);
    const id = newId('whk');
    const secret = newWebhookSecret();
    const ciphertext = await this.#encrypt(id, secret);
    const endpoint = await this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now().toISOString();
      await trx.insertInto('webhook_endpoints').values({ id, name: input.name, url, events, secret: ciphertext, status: 'enabled', created_at: now, updated_at: now }).execute();
      await this.#audit(trx, change, 'webhook.create', id, { name: input.name, origin: origin(url), events: JSON.parse(events) as string[] });
      return view(await this.#load(trx, id));
    });
    return { endpoint, secret };
  }

  async get(id: string): Promise<EndpointView> {
    return view(await this.#load(this.#db, id));
  }

  /** Sorted by id; `nextCursor` is the last id of this page when there is more. */
  async list(query: { limit: number; cursor?: string }): Promise<{ items: EndpointView[]; nextCursor: string | null }> {
    let select = this.#db.selectFrom('webhook_endpoints').select(VIEW_COLUMNS).orderBy('id').limit(query.limit + 1);
    if (query.cursor !== undefined) select = select.where('id', '>', query.cursor);
    return pageAfterKey(await select.execute(), query.limit, (row) => row.id, view);
  }

  /** Changes name, URL, events or status; unchanged fields are not audited as changes. */
  async update(id: string, patch: EndpointPatch, change: WebhookChange): Promise<EndpointView> {
    if (patch.name !== undefined) checkName(patch.name);
    const url = patch.url === undefined ? undefined : this.#checkUrl(patch.url);
    const events = patch.events === undefined ? undefined : checkEvents(patch.events);
    if (patch.status !== undefined && !(ENDPOINT_STATUSES as readonly string[]).includes(patch.status)) throw invalid(`The status is one of ${ENDPOINT_STATUSES.join(', ')}.`);
    return this.#db.transaction().execute(async (trx) => {
      const before = await this.#load(trx, id);
      const set: Partial<Pick<Row, 'name' | 'url' | 'events' | 'status'>> = {};
      const details: Record<string, JsonValue> = {};
      if (patch.name !== undefined && patch.name !== before.name) {
        set.name = patch.name;
        details['name'] = { before: before.name, after: patch.name };
      }
      if (url !== undefined && url !== before.url) {
        set.url = url;
        details['url'] = { before: origin(before.url), after: origin(url) };
      }
      if (events !== undefined && events !== before.events) {
        set.events = events;
        details['events'] = { before: JSON.parse(before.events) as string[], after: JSON.parse(events) as string[] };
      }
      if (patch.status !== undefined && patch.status !== before.status) {
        set.status = patch.status;
        details['status'] = { before: before.status, after: patch.status };
      }
      if (Object.keys(set).length === 0) return view(before);
      await trx.updateTable('webhook_endpoints').set({ ...set, updated_at: this.#clock.now().toISOString() }).where('id', '=', id).execute();
      await this.#audit(trx, change, 'webhook.update', id, details);
      return view(await this.#load(trx, id));
    });
  }

  /** Replaces the signing secret; attempts from now on are signed with the new one, returned here once. */
  async rotateSecret(id: string, change: WebhookChange): Promise<{ endpoint: EndpointView; secret: string }> {
    await this.#load(this.#db, id);
    const secret = newWebhookSecret();
    const ciphertext = await this.#encrypt(id, secret);
    const endpoint = await this.#db.transaction().execute(async (trx) => {
      await this.#load(trx, id);
      await trx.updateTable('webhook_endpoints').set({ secret: ciphertext, updated_at: this.#clock.now().toISOString() }).where('id', '=', id).execute();
      await this.#audit(trx, change, 'webhook.rotate_secret', id, {});
      return view(await this.#load(trx, id));
    });
    return { endpoint, secret };
  }

  /** Deletes the endpoint and its delivery log; pending deliveries are dropped. */
  async remove(id: string, change: WebhookChange): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const before = await this.#load(trx, id);
      const pending = await trx.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('endpoint_id', '=', id).where('status', '=', 'pending').executeTakeFirstOrThrow();
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      await this.#audit(trx, change, 'webhook.delete', id, { name: before.name, origin: origin(before.url), droppedPending: pending.n });
    });
  }

  async deliveries(id: string, query: DeliveryQuery): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    await this.#load(this.#db, id);
    return listDeliveries(this.#db, id, query);
  }

  /** Sends a delivered or failed delivery again (same id and body, newly signed), due now. */
  async retryDelivery(id: string, deliveryId: string, change: WebhookChange): Promise<DeliveryView> {
    return this.#db.transaction().execute(async (trx) => {
      await this.#load(trx, id);
      const before = await findDelivery(trx, id, deliveryId);
      if (before.status === 'pending') throw new RampartError('webhook.delivery_pending', `delivery ${deliveryId} is still pending`);
      await requeueDelivery(trx, deliveryId, this.#clock.now().toISOString());
      await this.#audit(trx, change, 'webhook.delivery_retry', id, { delivery: deliveryId, event: before.event_id, eventType: before.event_type, before: before.status, attempts: before.attempts });
      return deliveryView(await findDelivery(trx, id, deliveryId));
    });
  }
}
