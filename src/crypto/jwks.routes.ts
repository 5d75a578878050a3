import type { Plane } from '../http/plane.ts';
import type { Keyring } from './keyring.ts';

/** The public signing keys (current and rotated out) as a JWKS, on the app plane. */
export function registerJwksRoute(plane: Plane, keyring: Keyring): void {
  plane.app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Verifiers may cache briefly; rotation keeps old keys published, so a stale copy only lacks the newest.
    void reply.header('cache-control', 'public, max-age=300');
    return keyring.publicJwks();
  });
}
