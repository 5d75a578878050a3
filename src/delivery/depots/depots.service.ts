import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import { idOrNameContains, pageAfterKey } from '../../storage/listing.ts';
import type { Selectable } from 'kysely';
import type { DepotTable, Tables } from '../../storage/tables.ts';
import { checkName, checkPoint, DEPOT_ID_PATTERN, diff, invalid } from '../checks.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import { checkServiceArea, type ServiceArea } from './service-area.ts';

// Depots: the ids dispatchers' depot scopes, devices and the fleet refer to,
// a location and an optional service area. Shared by the API and
// `rampart depot …`; every change audited in its transaction.

export interface DepotView {
  readonly id: string;
  readonly name: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly serviceArea: ServiceArea | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface NewDepot {
  readonly id: string;
  readonly name: string;
  readonly location: { readonly lat: number; readonly lon: number };
  readonly serviceArea?: ServiceArea | null | undefined;
}

export interface DepotPatch {
  readonly name?: string | undefined;
  readonly location?: { readonly lat: number; readonly lon: number } | undefined;
  /** null removes the area. */
  readonly serviceArea?: ServiceArea | null | undefined;
}

export interface DepotQuery {
  /** Only these depots (a dispatcher's scope); undefined: all. */
  readonly depots?: readonly string[] | undefined;
  /** Part of the id or name, any case. */
  readonly q?: string | undefined;
  readonly limit: number;
  /** The last id of the previous page. */
  readonly cursor?: string | undefined;
}

function view(row: Selectable<DepotTable>): DepotView {
  return {
    id: row.id,
    name: row.name,
    location: { lat: row.lat, lon: row.lon },
    serviceArea: row.service_area === null ? null : (JSON.parse(row.service_area) as ServiceArea),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What an audit entry may say about a depot (the area only as its size). */
function facts(depot: DepotView) {
  return { name: depot.name, lat: depot.location.lat, lon: depot.location.lon, serviceAreaRings: depot.serviceArea?.coordinates.length ?? 0, serviceAreaPositions: depot.serviceArea?.coordinates.reduce((n, ring) => n + ring.length, 0) ?? 0 };
}

export async function loadDepot(db: Kysely<Tables>, id: string): Promise<DepotView> {
  const row = await db.selectFrom('depots').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new RampartError('depot.not_found', `no depot ${id}`);
  return view(row);
}

export class DepotRegistry {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(options: { db: Db; clock: Clock }) {
    this.#db = options.db;
    this.#clock = options.clock;
  }

  async add(input: NewDepot, change: AuditedChange): Promise<DepotView> {
    if (!new RegExp(DEPOT_ID_PATTERN).test(input.id)) throw invalid('Depot ids are 1–64 characters: letters, digits, spaces, ".", "_" and "-", starting with a letter or digit.');
    checkName(input.name);
    checkPoint(input.location.lat, input.location.lon, 'The location');
    if (input.serviceArea != null) checkServiceArea(input.serviceArea);
    try {
      return await this.#db.transaction().execute(async (trx) => {
        if ((await trx.selectFrom('depots').select('id').where('id', '=', input.id).executeTakeFirst()) !== undefined) throw new RampartError('depot.id_taken', `depot ${input.id} exists`);
        const now = this.#clock.now().toISOString();
        await trx
          .insertInto('depots')
          .values({ id: input.id, name: input.name, lat: input.location.lat, lon: input.location.lon, service_area: input.serviceArea == null ? null : JSON.stringify(input.serviceArea), created_at: now, updated_at: now })
          .execute();
        const depot = await loadDepot(trx, input.id);
        await recordChange(trx, this.#clock, change, 'depot.create', { type: 'depot', id: input.id }, facts(depot));
        return depot;
      });
    } catch (error) {
      // Two creations of one id racing: the loser sees the primary key violation.
      if (!(error instanceof RampartError) && (await this.#db.selectFrom('depots').select('id').where('id', '=', input.id).executeTakeFirst()) !== undefined) {
        throw new RampartError('depot.id_taken', `depot ${input.id} exists`, { cause: error });
      }
      throw error;
    }
  }

  get(id: string): Promise<DepotView> {
    return loadDepot(this.#db, id);
  }

  async update(id: string, patch: DepotPatch, change: AuditedChange): Promise<DepotView> {
    if (patch.name !== undefined) checkName(patch.name);
    if (patch.location !== undefined) checkPoint(patch.location.lat, patch.location.lon, 'The location');
    if (patch.serviceArea != null) checkServiceArea(patch.serviceArea);
    return this.#db.transaction().execute(async (trx) => {
      const before = await loadDepot(trx, id);
      await trx
        .updateTable('depots')
        .set({
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.location === undefined ? {} : { lat: patch.location.lat, lon: patch.location.lon }),
          ...(patch.serviceArea === undefined ? {} : { service_area: patch.serviceArea === null ? null : JSON.stringify(patch.serviceArea) }),
          updated_at: this.#clock.now().toISOString(),
        })
        .where('id', '=', id)
        .execute();
      const after = await loadDepot(trx, id);
      await recordChange(trx, this.#clock, change, 'depot.update', { type: 'depot', id }, diff(facts(before), facts(after)));
      return after;
    });
  }

  /** Sorted by id; `nextCursor` is the last id of this page when there is more. */
  async list(query: DepotQuery): Promise<{ items: DepotView[]; nextCursor: string | null }> {
    if (query.depots !== undefined && query.depots.length === 0) return { items: [], nextCursor: null };
    let select = this.#db.selectFrom('depots').selectAll().orderBy('id').limit(query.limit + 1);
    if (query.depots !== undefined) select = select.where('id', 'in', [...query.depots]);
    if (query.cursor !== undefined) select = select.where('id', '>', query.cursor);
    const q = query.q;
    if (q !== undefined && q !== '') select = select.where((eb) => idOrNameContains(eb, q));
    return pageAfterKey(await select.execute(), query.limit, (row) => row.id, view);
  }
}
