import { existsSync, statSync } from 'node:fs';
import { NO_FLY_ZONE_NAME, polygonProblems } from '../delivery/planning/zones.ts';
import { admitsEveryone, isLoopbackHost, isValidCidr, isValidIp } from '../http/cidr.ts';
import { PLANE_NAMES, type RampartConfig } from './schema.ts';

export interface ConfigProblems {
  /** Values that cannot work (bad CIDR, missing file). */
  readonly invalid: string[];
  /** Values that would work but are unsafe; each says what to change. */
  readonly insecure: string[];
}

/** The secure-default rules that a JSON schema cannot express. */
export function findConfigProblems(config: RampartConfig): ConfigProblems {
  const invalid: string[] = [];
  const insecure: string[] = [];
  const listeners = new Map<string, string>();

  for (const name of PLANE_NAMES) {
    const plane = config.planes[name];
    const at = `planes.${name}`;
    if (!isValidIp(plane.host)) invalid.push(`${at}.host: "${plane.host}" is not an IP address`);
    for (const [field, list] of [['allow', plane.allow], ['trustedProxies', plane.trustedProxies]] as const) {
      for (const cidr of list) {
        if (!isValidCidr(cidr)) invalid.push(`${at}.${field}: "${cidr}" is not a CIDR range or IP address`);
      }
    }
    if (plane.port !== 0) {
      const key = `${plane.host}:${plane.port}`;
      const other = listeners.get(key);
      if (other !== undefined) invalid.push(`${at}.port: ${key} is already used by planes.${other}`);
      listeners.set(key, name);
    }
    if (plane.tls !== undefined) {
      for (const field of ['certFile', 'keyFile'] as const) {
        if (!existsSync(plane.tls[field])) invalid.push(`${at}.tls.${field}: file ${plane.tls[field]} does not exist`);
      }
    }
    if (isValidIp(plane.host) && !isLoopbackHost(plane.host) && plane.tls === undefined && plane.trustedProxies.length === 0) {
      insecure.push(
        `${at}.host: ${plane.host} is beyond loopback but the plane has no TLS; set ${at}.tls.certFile and ${at}.tls.keyFile, ` +
          `or list the TLS-terminating proxy in ${at}.trustedProxies, or bind to 127.0.0.1`,
      );
    }
    if (plane.trustedProxies.some((c) => isValidCidr(c) && admitsEveryone(c))) {
      insecure.push(`${at}.trustedProxies: a /0 range trusts every client to set X-Forwarded-For; list only your proxies' addresses`);
    }
  }

  if (config.planes.admin.allow.some((c) => isValidCidr(c) && admitsEveryone(c))) {
    insecure.push('planes.admin.allow: a /0 range admits everyone to the admin plane; list the operators\' networks instead');
  }

  const keyring = config.keyring;
  if (keyring.masterKey !== undefined && keyring.masterKeyFile !== undefined) {
    invalid.push('keyring: set either RAMPART_MASTER_KEY or keyring.masterKeyFile, not both');
  }
  if (keyring.masterKey !== undefined && Buffer.from(keyring.masterKey, 'base64').length !== 32) {
    invalid.push('RAMPART_MASTER_KEY: must be 32 bytes encoded in base64 (generate with `openssl rand -base64 32`)');
  }
  if (keyring.masterKeyFile !== undefined) {
    if (!existsSync(keyring.masterKeyFile)) {
      invalid.push(`keyring.masterKeyFile: file ${keyring.masterKeyFile} does not exist`);
    } else if ((statSync(keyring.masterKeyFile).mode & 0o077) !== 0) {
      insecure.push(`keyring.masterKeyFile: ${keyring.masterKeyFile} is readable or writable by group or others; run chmod 600 on it`);
    }
  }
  if (config.env === 'production' && keyring.masterKey === undefined && keyring.masterKeyFile === undefined) {
    insecure.push('env: production needs a supplied master key; set RAMPART_MASTER_KEY or keyring.masterKeyFile (a generated development key is never used in production)');
  }

  const db = config.database;
  if (db.driver === 'postgres') {
    const url = parseUrl(db.postgresUrl);
    if (url === undefined || !['postgres:', 'postgresql:'].includes(url.protocol)) {
      invalid.push('database.postgresUrl: the postgres driver needs a postgres:// URL (RAMPART_DATABASE_POSTGRES_URL)');
    } else if (config.env === 'production' && !isLocalDatabaseHost(url.hostname) && !['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? '')) {
      insecure.push('database.postgresUrl: a remote database in production must use TLS; add ?sslmode=verify-full (or require) to the URL');
    }
  }
  checkIdentity(config, invalid, insecure);
  checkPlanning(config, invalid, insecure);
  checkConsole(config, invalid);
  const caFile = config.devices.clientCaFile;
  if (caFile !== undefined) {
    if (!existsSync(caFile)) invalid.push(`devices.clientCaFile: file ${caFile} does not exist`);
    // Certificates are requested on every device listener with TLS: the HTTPS device plane, the MQTT listener, or both.
    const mqttTls = config.mqtt.enabled && config.mqtt.tls !== undefined;
    if (config.planes.device.tls === undefined && !mqttTls) {
      invalid.push('devices.clientCaFile: client certificates need TLS on the device plane or the MQTT listener; set planes.device.tls or mqtt.tls (certFile and keyFile)');
    }
  }
  for (const cidr of config.webhooks.allowPrivateCidrs) {
    if (!isValidCidr(cidr)) invalid.push(`webhooks.allowPrivateCidrs: "${cidr}" is not a CIDR range or IP address`);
    else if (admitsEveryone(cidr)) insecure.push(`webhooks.allowPrivateCidrs: ${cidr} lets webhooks reach every internal address (SSRF); list only the receivers' ranges`);
  }
  return { invalid, insecure };
}

function checkIdentity(config: RampartConfig, invalid: string[], insecure: string[]): void {
  const { webauthn, sso } = config.identity;
  for (const origin of webauthn.origins) {
    const url = parseUrl(origin);
    if (url === undefined || url.origin !== origin) {
      invalid.push(`identity.webauthn.origins: "${origin}" is not an origin (scheme://host[:port], no path or trailing slash)`);
    } else if (url.hostname !== webauthn.rpId && !url.hostname.endsWith(`.${webauthn.rpId}`)) {
      invalid.push(`identity.webauthn.origins: ${origin} is not within identity.webauthn.rpId "${webauthn.rpId}"; browsers would refuse every passkey`);
    } else if (config.env === 'production' && url.protocol !== 'https:' && url.hostname !== 'localhost' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
      insecure.push(`identity.webauthn.origins: ${origin} is plain HTTP; in production the console must be served over HTTPS`);
    }
  }
  if (!sso.enabled) return;
  for (const field of ['issuer', 'clientId', 'redirectUri'] as const) {
    if (sso[field] === '') invalid.push(`identity.sso.${field}: required when identity.sso.enabled is true`);
  }
  if (sso.clientSecret === '') invalid.push('identity.sso.clientSecret: required when identity.sso.enabled is true (set RAMPART_SSO_CLIENT_SECRET)');
  if (Object.keys(sso.roleMap).length === 0) invalid.push('identity.sso.roleMap: maps no provider group to a role, so every single sign-on would be refused');
  for (const field of ['issuer', 'redirectUri'] as const) {
    const url = parseUrl(sso[field]);
    if (sso[field] !== '' && url === undefined) invalid.push(`identity.sso.${field}: "${sso[field]}" is not a URL`);
    else if (url !== undefined && url.protocol !== 'https:' && (config.env === 'production' || !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, '')))) {
      insecure.push(`identity.sso.${field}: ${sso[field]} is not HTTPS; only a provider on this machine in development may use plain HTTP`);
    }
  }
}

function checkPlanning(config: RampartConfig, invalid: string[], insecure: string[]): void {
  const { osrmUrl, noFlyZones } = config.planning;
  if (osrmUrl !== '') {
    const url = parseUrl(osrmUrl);
    if (url === undefined || !['http:', 'https:'].includes(url.protocol)) invalid.push(`planning.osrmUrl: "${osrmUrl}" is not an http:// or https:// URL`);
    else if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') invalid.push('planning.osrmUrl: give only the server\'s base URL, without credentials, query or fragment');
    else if (config.env === 'production' && url.protocol === 'http:' && url.hostname !== 'localhost' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
      insecure.push(`planning.osrmUrl: ${osrmUrl} is plain HTTP beyond this machine; in production use https:// (or an OSRM server on loopback)`);
    }
  }
  for (const [name, polygon] of Object.entries(noFlyZones)) {
    if (!NO_FLY_ZONE_NAME.test(name)) invalid.push(`planning.noFlyZones: "${name}" is not a zone name (letters, digits, space, ".", "_", "-"; at most 64)`);
    for (const problem of polygonProblems(polygon)) invalid.push(`planning.noFlyZones.${name}: ${problem}`);
  }
}

function checkConsole(config: RampartConfig, invalid: string[]): void {
  const { tileUrl } = config.console;
  if (tileUrl === '') return;
  const url = parseUrl(tileUrl.replaceAll(/\{[a-z]\}/g, '0'));
  if (url === undefined || !['http:', 'https:'].includes(url.protocol)) invalid.push(`console.tileUrl: "${tileUrl}" is not an http:// or https:// URL template`);
  else if (!['{z}', '{x}', '{y}'].every((part) => tileUrl.includes(part))) invalid.push('console.tileUrl: the template must contain {z}, {x} and {y}');
  else if (url.username !== '' || url.password !== '') invalid.push('console.tileUrl: give the URL without credentials');
  else if (url.protocol === 'http:' && url.hostname !== 'localhost' && !isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) invalid.push(`console.tileUrl: ${tileUrl} is plain HTTP beyond this machine; browsers refuse mixed content on an HTTPS console — use https://`);
}

/** The origin the console loads map tiles from, for the Content-Security-Policy (undefined: no tiles). */
export function tileOrigin(config: RampartConfig): string | undefined {
  return config.console.tileUrl === '' ? undefined : new URL(config.console.tileUrl.replaceAll(/\{[a-z]\}/g, '0')).origin;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function isLocalDatabaseHost(hostname: string): boolean {
  // An empty host means a Unix socket.
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === '' || host === 'localhost' || isLoopbackHost(host);
}
