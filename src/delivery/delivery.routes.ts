import type { PlaneApp } from '../http/plane.ts';
import type { Delivery } from './delivery.ts';
import { registerDepotRoutes } from './depots/depots.routes.ts';
import { registerFleetRoutes } from './fleet/fleet.routes.ts';
import { registerShipmentRoutes } from './shipments/shipments.routes.ts';
import { registerTransferRoutes } from './shipments/transfer.routes.ts';
import { registerTrackingRoute } from './tracking/tracking.routes.ts';

/** Depots, fleet, shipments, CSV transfer and public tracking on the app plane (after the access hook). */
export async function registerDeliveryRoutes(app: PlaneApp, delivery: Delivery): Promise<void> {
  registerDepotRoutes(app, delivery.depots);
  registerFleetRoutes(app, delivery.fleet);
  registerShipmentRoutes(app, delivery);
  await registerTransferRoutes(app, delivery);
  registerTrackingRoute(app, delivery);
}
