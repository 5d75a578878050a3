import { RampartError } from '../../kernel/errors.ts';

/** The input to a route or mission was refused; `problems` names each field and rule, one line each. */
export class PlanningInputError extends RampartError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('planning.invalid_input', problems.join('\n'), { publicDetail: problems.join('; ') });
    this.problems = problems;
  }
}

/**
 * Why the road-routing service gave no usable matrix:
 *   timeout             no complete answer within `planning.osrmTimeoutMs`
 *   network             no connection (refused, reset, DNS)
 *   http_status         an HTTP error status without an OSRM error document
 *   rejected            OSRM answered with a `code` other than `Ok` (`osrmCode` says which)
 *   malformed           not JSON, or not the `table` response shape
 *   oversize            the response exceeded the adapter's byte limit
 *   no_route            some pairs have no road route (`unreachable` lists them)
 *   too_many_locations  more locations than one request may carry (refused before sending)
 */
export type RoutingFailure = 'timeout' | 'network' | 'http_status' | 'rejected' | 'malformed' | 'oversize' | 'no_route' | 'too_many_locations';

export interface UnreachablePair {
  /** Location ids as given to the provider. */
  readonly from: string;
  readonly to: string;
}

/**
 * The road-routing service failed. Nothing is retried or substituted here: the
 * caller decides whether to fall back to great-circle distances (and must then
 * say so, since the plan's `provider` changes).
 */
export class RoutingError extends RampartError {
  readonly reason: RoutingFailure;
  /** OSRM's own `code` for `rejected` (e.g. `InvalidQuery`, `TooBig`, `NoTable`). */
  readonly osrmCode: string | undefined;
  /** For `no_route`: the pairs without a route, in matrix order. */
  readonly unreachable: readonly UnreachablePair[];

  constructor(reason: RoutingFailure, message: string, details: { cause?: unknown; osrmCode?: string; unreachable?: readonly UnreachablePair[] } = {}) {
    super('planning.routing_failed', `${reason}: ${message}`, details.cause === undefined ? {} : { cause: details.cause });
    this.reason = reason;
    this.osrmCode = details.osrmCode;
    this.unreachable = details.unreachable ?? [];
  }
}

/** One reason a drone mission was refused; `message` is a sentence for the dispatcher. */
export type MissionRefusal =
  | { readonly kind: 'no_fly'; readonly zone: string; readonly depotInside: boolean; readonly dropInside: boolean; readonly message: string }
  | { readonly kind: 'range'; readonly neededKm: number; readonly availableKm: number; readonly maxRangeKm: number; readonly reservePercent: number; readonly message: string }
  | { readonly kind: 'payload'; readonly weightKg: number; readonly maxPayloadKg: number; readonly message: string };

/** A drone mission breaks one or more rules; `reasons` lists every one found, not just the first. */
export class MissionRefusedError extends RampartError {
  readonly reasons: readonly MissionRefusal[];

  constructor(reasons: readonly MissionRefusal[]) {
    const text = reasons.map((r) => r.message).join('; ');
    super('planning.mission_refused', text, { publicDetail: text });
    this.reasons = reasons;
  }
}
