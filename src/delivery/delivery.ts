import type { Keyring } from '../crypto/keyring.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Db } from '../storage/database.ts';
import { DepotRegistry } from './depots/depots.service.ts';
import { FleetRegistry } from './fleet/fleet.service.ts';
import { ProofIntake } from './proof/intake.ts';
import { ProofArchive } from './proof/proofs.service.ts';
import type { ProofSettings } from './proof/settings.ts';
import type { ShipmentEventSink } from './shipments/events.ts';
import { ShipmentLifecycle } from './shipments/lifecycle.ts';
import type { EtaSource } from './shipments/shipments.query.ts';
import { ShipmentService } from './shipments/shipments.service.ts';

// The delivery domain's services, built once for the server and for
// operator commands. Route planning and proof of delivery change shipments
// through `shipments.lifecycle` (assign, unassign, transition) inside their own
// transactions; an outbox plugs in as an event sink.

export interface DeliveryOptions {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  /** Called in the transaction of every shipment creation, assignment and status change. */
  readonly eventSinks?: readonly ShipmentEventSink[];
  /** ETA for the tracking page; none until routes exist. */
  readonly etaFor?: EtaSource;
  /** Proof-of-delivery limits, receipt issuer and retention: proofSettings(config), so the loaded configuration decides them. */
  readonly proof: ProofSettings;
}

export interface Delivery {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly depots: DepotRegistry;
  readonly fleet: FleetRegistry;
  readonly shipments: ShipmentService;
  readonly etaFor: EtaSource;
  /** Proofs of delivery: taken from drivers (intake), then read, exported and shredded (archive). */
  readonly proofs: { readonly intake: ProofIntake; readonly archive: ProofArchive; readonly settings: ProofSettings };
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const { db, keyring, clock, proof } = options;
  const lifecycle = new ShipmentLifecycle({ clock, keyring, sinks: options.eventSinks ?? [] });
  return {
    db,
    keyring,
    clock,
    depots: new DepotRegistry({ db, clock }),
    fleet: new FleetRegistry({ db, clock }),
    shipments: new ShipmentService({ db, keyring, clock, lifecycle }),
    etaFor: options.etaFor ?? (() => Promise.resolve(null)),
    proofs: { intake: new ProofIntake({ db, keyring, clock, lifecycle, settings: proof }), archive: new ProofArchive({ db, keyring, clock }), settings: proof },
  };
}
