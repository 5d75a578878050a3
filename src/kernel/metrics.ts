import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// One registry per running Rampart (not prom-client's global one), so that
// tests and several in-process instances never share counters.
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'plane' | 'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'plane' | 'method' | 'route'>;
  readonly connectionsRefused: Counter<'plane' | 'reason'>;
  readonly deviceAuthFailures: Counter<'reason'>;
  readonly ingestEvents: Counter<'hub' | 'protocol'>;
  readonly ingestRefused: Counter<'protocol' | 'reason'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'rampart_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'rampart_http_requests_total',
      help: 'HTTP requests answered, by plane, method, route template and status.',
      labelNames: ['plane', 'method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'rampart_http_request_duration_seconds',
      help: 'Time from request received to response sent.',
      labelNames: ['plane', 'method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'rampart_connections_refused_total',
      help: 'Connections closed before routing, by plane and reason (allow-list).',
      labelNames: ['plane', 'reason'],
      registers: [registry],
    }),
    deviceAuthFailures: new Counter({
      name: 'rampart_device_auth_failures_total',
      help: 'Device authentication and publisher-policy failures, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    ingestEvents: new Counter({
      name: 'rampart_ingest_events_total',
      help: 'Events durably appended (retries of stored events included), by hub and protocol.',
      labelNames: ['hub', 'protocol'],
      registers: [registry],
    }),
    ingestRefused: new Counter({
      name: 'rampart_ingest_refused_total',
      help: 'Ingest requests refused before anything was stored, by protocol and reason (throttled, invalid_event, too_large, unknown_hub…).',
      labelNames: ['protocol', 'reason'],
      registers: [registry],
    }),
  };
}
