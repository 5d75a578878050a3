import type { Clock } from '../../kernel/clock.ts';
import { RampartError } from '../../kernel/errors.ts';
import type { Db } from '../../storage/database.ts';
import { type AuditedChange, recordChange } from '../../audit/append.ts';
import { loadDepot } from '../depots/depots.service.ts';
import { encodeDroneMission, planDroneMission, type DroneMission, type DroneMissionSettings } from '../planning/index.ts';

// Drone missions: planned for a drone delivery from the drone's depot to the
// shipment's destination (refused with every reason: no-fly zones, range,
// payload), stored and audited; then sent to the drone's device on its
// device-bound MQTT topic. The shipment's status does not change here: a
// drone has no driver account to be assigned to.

/** Publishes to a device's device-bound topic; false when it is not connected and subscribed. */
export type DeviceSender = (deviceId: string, payload: Buffer, properties: Readonly<Record<string, string>>) => Promise<boolean>;

export interface MissionView {
  readonly id: string;
  readonly shipmentId: string;
  readonly droneId: string;
  readonly depotId: string;
  readonly status: 'planned' | 'sent';
  readonly mission: DroneMission;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

const notPossible = (why: string) => new RampartError('drone_mission.not_possible', why, { publicDetail: why });

export class MissionService {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #settings: DroneMissionSettings;
  readonly #send: DeviceSender | undefined;

  constructor(options: { db: Db; clock: Clock; settings: DroneMissionSettings; send?: DeviceSender | undefined }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#send = options.send;
  }

  /** The configured no-fly zones, in name order: what every mission is checked against. */
  noFlyZones(): DroneMissionSettings['noFlyZones'] {
    return this.#settings.noFlyZones;
  }

  async get(id: string): Promise<MissionView> {
    const row = await this.#db.selectFrom('drone_missions').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new RampartError('drone_mission.not_found', `no mission ${id}`);
    return { id: row.id, shipmentId: row.shipment_id, droneId: row.drone_id, depotId: row.depot_id, status: row.status, mission: JSON.parse(row.document) as DroneMission, createdAt: row.created_at, sentAt: row.sent_at };
  }

  /** Plans and stores a mission for a drone-mode shipment waiting for dispatch (MissionRefusedError, 422, lists every reason). */
  async plan(shipmentId: string, droneId: string, change: AuditedChange): Promise<MissionView> {
    const shipment = await this.#db.selectFrom('shipments').select(['id', 'depot_id', 'mode', 'status', 'dest_lat', 'dest_lon', 'weight_kg']).where('id', '=', shipmentId).executeTakeFirst();
    if (shipment === undefined) throw new RampartError('shipment.not_found', `no shipment ${shipmentId}`);
    if (shipment.mode !== 'drone') throw notPossible(`Shipment ${shipmentId} is a truck delivery.`);
    if (shipment.status !== 'created') throw notPossible(`Shipment ${shipmentId} is ${shipment.status}, not waiting for dispatch.`);
    const drone = await this.#db.selectFrom('drones').select(['id', 'depot_id', 'device_id', 'status', 'max_range_km', 'max_payload_kg']).where('id', '=', droneId).executeTakeFirst();
    if (drone === undefined) throw new RampartError('drone.not_found', `no drone ${droneId}`);
    if (drone.depot_id !== shipment.depot_id) throw notPossible(`Drone ${droneId} belongs to depot ${drone.depot_id}, not ${shipment.depot_id}.`);
    if (drone.status !== 'active') throw notPossible(`Drone ${droneId} is inactive.`);
    if (drone.device_id === null) throw notPossible(`Drone ${droneId} has no device to receive the mission.`);
    const depot = await loadDepot(this.#db, shipment.depot_id);
    const mission = planDroneMission(
      { shipmentId, droneId: drone.device_id, drone: { maxRangeKm: drone.max_range_km, maxPayloadKg: drone.max_payload_kg }, depot: depot.location, drop: { lat: shipment.dest_lat, lon: shipment.dest_lon }, parcelWeightKg: shipment.weight_kg },
      this.#settings,
      { clock: this.#clock },
    );
    await this.#db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('drone_missions').select('id').where('shipment_id', '=', shipmentId).executeTakeFirst();
      if (existing !== undefined) throw notPossible(`Shipment ${shipmentId} already has mission ${existing.id}.`);
      await trx
        .insertInto('drone_missions')
        .values({ id: mission.missionId, shipment_id: shipmentId, drone_id: droneId, depot_id: shipment.depot_id, status: 'planned', document: JSON.stringify(mission), distance_m: mission.distanceMetres, created_at: mission.createdAt, sent_at: null })
        .execute();
      await recordChange(trx, this.#clock, change, 'drone_mission.create', { type: 'drone_mission', id: mission.missionId }, { shipment: shipmentId, drone: droneId, device: drone.device_id, distanceMetres: mission.distanceMetres });
    });
    return this.get(mission.missionId);
  }

  /** Publishes the mission to the drone's device (QoS 1, acknowledged by the device), then records it sent. */
  async send(id: string, change: AuditedChange): Promise<MissionView> {
    const mission = await this.get(id);
    if (mission.status === 'sent') throw notPossible(`Mission ${id} was already sent.`);
    const deviceId = mission.mission.droneId;
    const notConnected = () => new RampartError('drone_mission.not_connected', `device ${deviceId} not reachable`, { publicDetail: `Drone ${mission.droneId} (device ${deviceId}) is not connected and subscribed to its device-bound topic.` });
    if (this.#send === undefined) throw notConnected();
    const delivered = await this.#send(deviceId, encodeDroneMission(mission.mission), { type: 'rampart.drone-mission', missionId: id });
    if (!delivered) throw notConnected();
    await this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now().toISOString();
      await trx.updateTable('drone_missions').set({ status: 'sent', sent_at: now }).where('id', '=', id).execute();
      await recordChange(trx, this.#clock, change, 'drone_mission.send', { type: 'drone_mission', id }, { shipment: mission.shipmentId, drone: mission.droneId, device: deviceId });
    });
    return this.get(id);
  }
}
