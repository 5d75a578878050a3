import { recordChange, type AuditedChange, type JsonValue } from '../audit/append.ts';
import type { Clock } from '../kernel/clock.ts';
import { RampartError } from '../kernel/errors.ts';
import type { Db } from '../storage/database.ts';
import type { EventLog, HubChanges, HubDefinition, HubSpec } from '../stream/event-log.ts';
import { changedHub, checkHubSpec, hubSettingsOf } from '../stream/hubs.ts';

// Hubs created and changed at run time (the API; configured hubs change only
// in the configuration). Each change is audited with its settings before and
// after. The event log is its own database, so the change and its audit entry
// cannot share a transaction: the entry is appended first, the event log's
// change is made inside the main database's transaction, and that transaction
// commits only once the event log has. A refused change rolls the entry back.
// What remains is the moment between the event log's commit and the main
// database's: if the process dies or the main database fails right then, the
// hub has changed without its audit entry. Nothing else runs in between.

export type HubChangeActor = AuditedChange;

export interface HubAdministrationDeps {
  readonly db: Db;
  readonly eventLog: EventLog;
  readonly clock: Clock;
}

export class HubAdministration {
  readonly #db: Db;
  readonly #eventLog: EventLog;
  readonly #clock: Clock;
  /** One change at a time, so each audit entry's "before" is the definition the change replaces. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: HubAdministrationDeps) {
    this.#db = deps.db;
    this.#eventLog = deps.eventLog;
    this.#clock = deps.clock;
  }

  /** Creates a hub (origin `api`), usable for ingest as soon as this resolves. */
  create(spec: HubSpec, change: HubChangeActor): Promise<HubDefinition> {
    return this.#serially(async () => {
      // Refusals come before the transaction: nothing is appended for them.
      const checked = checkHubSpec(spec);
      if (this.#eventLog.hubs.has(checked.name)) {
        const detail = `a hub named ${checked.name} already exists`;
        throw new RampartError('hub.name_taken', detail, { publicDetail: detail });
      }
      return this.#db.transaction().execute(async (trx) => {
        await this.#audit(trx, 'hub.create', checked.name, change, { before: null, after: hubSettingsOf(checked) });
        return this.#eventLog.createHub(checked);
      });
    });
  }

  /** Changes an API-created hub's retention and content rules. */
  update(name: string, changes: HubChanges, change: HubChangeActor): Promise<HubDefinition> {
    return this.#serially(async () => {
      const current = this.#eventLog.hubs.get(name);
      if (current === undefined) throw new RampartError('ingest.unknown_hub', `no hub ${name}`, { publicDetail: 'no such event hub' });
      const next = changedHub(current, changes, this.#clock.now().toISOString());
      const before: Record<string, JsonValue> = hubSettingsOf(current);
      const after: Record<string, JsonValue> = hubSettingsOf(next);
      return this.#db.transaction().execute(async (trx) => {
        await this.#audit(trx, 'hub.update', name, change, { before, after, changed: Object.keys(after).filter((key) => after[key] !== before[key]) });
        return this.#eventLog.updateHub(name, changes);
      });
    });
  }

  #audit(trx: Parameters<typeof recordChange>[0], action: string, hub: string, change: HubChangeActor, details: Record<string, JsonValue>) {
    return recordChange(trx, this.#clock, change, action, { type: 'hub', id: hub }, details);
  }

  #serially<T>(body: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(body);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
