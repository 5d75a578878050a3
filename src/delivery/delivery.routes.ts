import type { RampartConfig } from '../config/schema.ts';
import type { PlaneApp } from '../http/plane.ts';
import type { Delivery } from './delivery.ts';
import { registerDepotRoutes } from './depots/depots.routes.ts';
import { registerFleetRoutes } from './fleet/fleet.routes.ts';
import { registerProofRoutes } from './proof/proofs.routes.ts';
import { registerReceiptRoutes } from './proof/receipts.routes.ts';
import { registerShipmentRoutes } from './shipments/shipments.routes.ts';
import { registerTransferRoutes } from './shipments/transfer.routes.ts';
import { registerTrackingRoute } from './tracking/tracking.routes.ts';

export interface DeliveryRouteDeps {
  readonly delivery: Delivery;
  /** The public pages' limits (`perimeter.rateLimits`). */
  readonly rateLimits: Pick<RampartConfig['perimeter']['rateLimits'], 'tracking' | 'receipts'>;
}

/** Depots, fleet, shipments, CSV transfer, proof of delivery, public tracking and receipt checks on the app plane (after the access hook). */
export async function registerDeliveryRoutes(app: PlaneApp, deps: DeliveryRouteDeps): Promise<void> {
  const { delivery, rateLimits } = deps;
  registerDepotRoutes(app, delivery.depots);
  registerFleetRoutes(app, delivery.fleet);
  registerShipmentRoutes(app, delivery);
  await registerTransferRoutes(app, delivery);
  registerProofRoutes(app, delivery);
  registerTrackingRoute(app, delivery, { rateLimit: rateLimits.tracking });
  await registerReceiptRoutes(app, delivery, { rateLimit: rateLimits.receipts });
}
