import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { createAddressMatcher, type AddressMatcher } from '../../http/cidr.ts';
import { RampartError } from '../../kernel/errors.ts';

// Where webhooks may go. A receiver's URL is chosen by whoever configures it,
// so without a guard Rampart would post to its own loopback services, the
// private network or the cloud metadata endpoint on their behalf (SSRF). Only
// globally routable unicast addresses pass, unless an address lies in
// `webhooks.allowPrivateCidrs`; plain HTTP only to such allow-listed addresses.
// Every address a name resolves to must pass, and the connection then goes to
// the vetted address itself, so a second DNS answer cannot redirect it.

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every A and AAAA address of a host name. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The operating system's resolver (hosts file, then DNS): what a plain connect would have used. */
export const systemResolver: Resolver = async (hostname) => {
  const found = await lookup(hostname, { all: true, order: 'verbatim' });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface DestinationPolicy {
  readonly allowPrivateCidrs: readonly string[];
}

/** A destination webhooks may not reach. Its message is safe to show to the administrator. */
export class DestinationRefused extends RampartError {
  constructor(reason: string) {
    super('webhook.url_refused', reason, { publicDetail: reason });
  }
}

export interface Destination {
  readonly url: URL;
  /** The host name (or literal address) without brackets, for SNI and the Host header. */
  readonly host: string;
  /** The vetted address the connection must use. */
  readonly address: ResolvedAddress;
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

const RANGE_NAMES: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  carrierGradeNat: 'carrier-grade NAT (RFC 6598)',
  linkLocal: 'link-local (cloud metadata lives here)',
  uniqueLocal: 'unique-local IPv6',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
  nonGlobalIpv6: 'non-global IPv6',
};

/**
 * `public` for a globally routable unicast address; otherwise the special range
 * it lies in. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function addressRange(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  // Outside 2000::/3 lie IPv4-compatible and other non-global IPv6 forms.
  if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) return 'nonGlobalIpv6';
  return 'public';
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

export class DestinationGuard {
  readonly #allowListed: AddressMatcher;
  readonly #hasAllowList: boolean;
  readonly #resolve: Resolver;

  constructor(policy: DestinationPolicy, resolver: Resolver = systemResolver) {
    this.#allowListed = createAddressMatcher(policy.allowPrivateCidrs);
    this.#hasAllowList = policy.allowPrivateCidrs.length > 0;
    this.#resolve = resolver;
  }

  /**
   * Checks a URL without asking DNS: an absolute http(s) URL without
   * credentials, whose literal address (or `localhost` name) is allowed.
   * Returns the normalised URL. Names are vetted again, resolved, at every attempt.
   */
  checkUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new DestinationRefused('The URL is not an absolute URL.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DestinationRefused(`The scheme ${url.protocol} is not allowed; use https://.`);
    if (url.username !== '' || url.password !== '') throw new DestinationRefused('The URL may not carry a user name or password.');
    const host = hostOf(url);
    if (host === '') throw new DestinationRefused('The URL has no host.');
    if (isIP(host) !== 0) {
      this.#vet(url, host, host);
    } else if (isLocalhostName(host)) {
      // RFC 6761: such names always mean this machine.
      this.#vet(url, '127.0.0.1', host);
    } else if (url.protocol === 'http:' && !this.#hasAllowList) {
      throw new DestinationRefused('Plain http:// is allowed only to addresses in webhooks.allowPrivateCidrs; use https://.');
    }
    return url;
  }

  /**
   * Resolves the URL's host and vets every address it has; refuses when any
   * one is not allowed. The first address is the one to connect to. A name
   * that does not resolve is an ordinary (retryable) error, not a refusal.
   */
  async resolve(text: string): Promise<Destination> {
    const url = this.checkUrl(text);
    const host = hostOf(url);
    const family = isIP(host);
    let addresses: readonly ResolvedAddress[];
    if (family !== 0) {
      addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await this.#resolve(host);
      } catch (error) {
        throw new RampartError('webhook.host_unresolvable', `cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
      }
    }
    const first = addresses[0];
    if (first === undefined) throw new RampartError('webhook.host_unresolvable', `${host} has no addresses`);
    for (const a of addresses) this.#vet(url, a.address, host);
    return { url, host, address: first };
  }

  #vet(url: URL, address: string, host: string): void {
    const listed = this.#allowListed(address);
    const range = addressRange(address);
    const where = host === address ? address : `${host} (${address})`;
    if (!listed && range !== 'public') {
      throw new DestinationRefused(`${where} is a ${RANGE_NAMES[range] ?? range} address that webhooks may not reach; list it in webhooks.allowPrivateCidrs to allow it.`);
    }
    if (url.protocol === 'http:' && !listed) throw new DestinationRefused(`Plain http:// is allowed only to addresses in webhooks.allowPrivateCidrs; ${where} is not one. Use https://.`);
  }
}
