// Checks on no-fly zone polygons that a JSON schema cannot express. No
// dependencies, so configuration checks can use it without loading the
// geometry library.

/** A no-fly zone's name (the schema's key pattern, which a map's keys are not checked against). */
export const NO_FLY_ZONE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

/** What is wrong with a GeoJSON Polygon's coordinates, one line each; empty when valid. */
export function polygonProblems(coordinates: unknown): string[] {
  if (!Array.isArray(coordinates) || coordinates.length === 0) return ['must be a list of rings (the outer ring, then any holes)'];
  const problems: string[] = [];
  coordinates.forEach((ring: unknown, r) => {
    const name = r === 0 ? 'outer ring' : `hole ${r}`;
    if (!Array.isArray(ring)) {
      problems.push(`${name}: must be a list of [lon, lat] positions`);
      return;
    }
    if (ring.length < 4) problems.push(`${name}: needs at least 4 positions (a triangle plus the closing repeat of the first), has ${ring.length}`);
    ring.forEach((position: unknown, p) => {
      const problem = positionProblem(position);
      if (problem !== undefined) problems.push(`${name}, position ${p}: ${problem}`);
    });
    const first: unknown = ring[0];
    const last: unknown = ring.at(-1);
    if (ring.length > 0 && (!Array.isArray(first) || !Array.isArray(last) || first[0] !== last[0] || first[1] !== last[1])) {
      problems.push(`${name}: is not closed; its last position must repeat its first`);
    }
  });
  return problems;
}

function positionProblem(position: unknown): string | undefined {
  if (!Array.isArray(position) || position.length !== 2) return 'must be [lon, lat]';
  const [lon, lat] = position as unknown[];
  if (typeof lon !== 'number' || !Number.isFinite(lon) || lon < -180 || lon > 180) return 'longitude must be in [-180, 180]';
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) return 'latitude must be in [-90, 90]';
  return undefined;
}
