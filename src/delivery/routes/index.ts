import type { Clock } from '../../kernel/clock.ts';
import type { Delivery } from '../delivery.ts';
import { defaultServiceSecondsFor, droneMissionSettingsFor, greatCircleProviderFor, matrixProviderFor, type PlanningConfig } from '../planning/index.ts';
import { MissionService, type DeviceSender } from './missions.service.ts';
import { RouteProgress } from './progress.ts';
import { RouteService } from './routes.service.ts';

// Delivery routes and drone missions (dispatcher API, delivery-routes.routes.ts) and
// the driver's side (../driver/). Others call, inside their own transactions:
//   markStopDelivered(trx, shipmentId, at)  proof of delivery: the stop is
//                                           delivered; the route completes when
//                                           nothing is left to visit
//   routeEtaSource(db)                      the tracking page's ETA (createDelivery's etaFor)
// Nothing here needs the event log: only the driver's location ping writes to
// it, so it is that route's dependency (registerDriverRoutes), and the CLI
// (`rampart demo seed`) plans routes without opening the log.

export { completeIfDone, markStopDelivered, routeEtaSource } from './progress.ts';
export type { DeviceSender } from './missions.service.ts';

export interface Routes {
  readonly delivery: Delivery;
  readonly routes: RouteService;
  readonly progress: RouteProgress;
  readonly missions: MissionService;
  readonly clock: Clock;
}

export interface RoutesOptions {
  readonly delivery: Delivery;
  readonly planning: PlanningConfig;
  /** The MQTT listener's sendToDevice, looked up when a mission is sent (the listener starts after the routes are registered). */
  readonly sendToDevice?: DeviceSender;
  readonly fetch?: typeof globalThis.fetch;
}

export function createRoutes(options: RoutesOptions): Routes {
  const { delivery, planning } = options;
  const lifecycle = delivery.shipments.lifecycle;
  const providers = { configured: matrixProviderFor(planning, options.fetch === undefined ? {} : { fetch: options.fetch }), greatCircle: greatCircleProviderFor(planning) };
  return {
    delivery,
    routes: new RouteService({ db: delivery.db, clock: delivery.clock, lifecycle, providers, serviceSeconds: defaultServiceSecondsFor(planning) }),
    progress: new RouteProgress({ db: delivery.db, clock: delivery.clock, lifecycle }),
    missions: new MissionService({ db: delivery.db, clock: delivery.clock, settings: droneMissionSettingsFor(planning), send: options.sendToDevice }),
    clock: delivery.clock,
  };
}
