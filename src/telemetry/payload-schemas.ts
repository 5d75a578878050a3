import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Format } from 'typebox/format';
import { isRfc3339DateTime } from '../kernel/rfc3339.ts';

const RFC3339_FORMAT = 'rfc3339-date-time';

// The built-in telemetry schemas a hub can enforce (`hubs.<name>.schema`).
// Units are SI where a device can choose (metres, metres per second), except
// the truck odometer, which fleets read in kilometres. Unknown fields are
// refused: a firmware that starts sending something new is noticed, not
// silently stored in a shape no consumer expects.

// The date-time check runs once per event on the ingest path: a hand-written one (kernel/rfc3339.ts).
Format.Set(RFC3339_FORMAT, isRfc3339DateTime);

/** RFC 3339 with a zone, as devices send it; at most millisecond precision is meaningful. */
const Timestamp = Type.String({ format: RFC3339_FORMAT, maxLength: 40, description: 'When the device took the reading (RFC 3339, with zone).' });
const Latitude = Type.Number({ minimum: -90, maximum: 90, description: 'WGS 84 latitude, degrees.' });
const Longitude = Type.Number({ minimum: -180, maximum: 180, description: 'WGS 84 longitude, degrees.' });
const Heading = Type.Number({ minimum: 0, exclusiveMaximum: 360, description: 'Course over ground, degrees clockwise from true north, [0, 360).' });

export const FLIGHT_STATES = ['grounded', 'takeoff', 'climb', 'cruise', 'hover', 'descent', 'landing', 'returning', 'emergency'] as const;

export const DroneTelemetrySchema = Type.Object(
  {
    lat: Latitude,
    lon: Longitude,
    altitude: Type.Number({ minimum: -500, maximum: 10_000, description: 'Metres above mean sea level.' }),
    heading: Heading,
    groundSpeed: Type.Number({ minimum: 0, maximum: 150, description: 'Metres per second.' }),
    battery: Type.Number({ minimum: 0, maximum: 100, description: 'Remaining charge, percent.' }),
    flightState: Type.Enum([...FLIGHT_STATES], { description: 'Phase of flight.' }),
    timestamp: Timestamp,
  },
  { additionalProperties: false, description: 'One drone telemetry reading.' },
);

export const TruckTelemetrySchema = Type.Object(
  {
    lat: Latitude,
    lon: Longitude,
    speed: Type.Number({ minimum: 0, maximum: 70, description: 'Metres per second (70 m/s is 252 km/h).' }),
    heading: Heading,
    odometer: Type.Number({ minimum: 0, maximum: 10_000_000, description: 'Kilometres since the odometer was reset.' }),
    timestamp: Timestamp,
  },
  { additionalProperties: false, description: 'One truck telemetry reading.' },
);

export type DroneTelemetry = Static<typeof DroneTelemetrySchema>;
export type TruckTelemetry = Static<typeof TruckTelemetrySchema>;

export type TelemetrySchemaName = 'drone' | 'truck' | 'none';

export interface SchemaCheck {
  /** The first problem, as `<path>: <message>` (path `/` for the document), or undefined when valid. */
  firstProblem(value: unknown): string | undefined;
}

function compiled(schema: TSchema): SchemaCheck {
  const validator = Compile(schema);
  return {
    firstProblem(value) {
      if (validator.Check(value)) return undefined;
      for (const error of validator.Errors(value)) {
        // The `false` sub-schema of additionalProperties repeats the parent's error less clearly.
        if (error.keyword === 'boolean') continue;
        const path = error.instancePath === '' ? '/' : error.instancePath;
        const params = error.params as { additionalProperties?: unknown; allowedValues?: unknown };
        const extra =
          error.keyword === 'additionalProperties' ? ` (${String(params.additionalProperties)})`
          : error.keyword === 'enum' && Array.isArray(params.allowedValues) ? ` (${params.allowedValues.join(', ')})`
          : '';
        return `${path}: ${error.message}${extra}`;
      }
      return '/: does not match the schema';
    },
  };
}

const CHECKS: Readonly<Record<Exclude<TelemetrySchemaName, 'none'>, SchemaCheck>> = {
  drone: compiled(DroneTelemetrySchema),
  truck: compiled(TruckTelemetrySchema),
};

/** The check for a hub's `schema` option; `none` accepts every JSON document. */
export function telemetrySchema(name: TelemetrySchemaName): SchemaCheck | undefined {
  return name === 'none' ? undefined : CHECKS[name];
}
