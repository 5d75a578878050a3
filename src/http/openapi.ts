import swagger from '@fastify/swagger';
import type { Plane } from './plane.ts';

// OpenAPI 3.1 for every /api/ route, generated from the same TypeBox schemas
// that validate requests, so the document cannot drift from the code.
// Register before any route: the generator collects routes as they are added.

export async function registerOpenApi(plane: Plane, version: string): Promise<void> {
  await plane.app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Rampart API', version, description: 'Rampart\'s API for the console, the driver app and integrations. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`; see docs/ERRORS.md.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-rampart-session', description: 'Browser session; state-changing requests also send X-CSRF-Token.' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /api/v1/oauth/token (service principals).' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    hideUntagged: false,
    // Only the API: health probes and well-known documents are not part of it.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/') ? schema : { ...schema, hide: true }, url }),
  });
  plane.app.get('/api/v1/openapi.json', { config: { access: { public: true } }, schema: { hide: true } }, () => Promise.resolve(plane.app.swagger()));
}
