import ipaddr from 'ipaddr.js';

// CIDR parsing and matching for the planes' allow-lists and trusted proxies.
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are matched as the IPv4 address
// they carry, so a dual-stack listener cannot be used to slip past an IPv4 rule.

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidr(text: string): Range {
  const trimmed = text.trim();
  const [address, bits] = trimmed.includes('/')
    ? ipaddr.parseCIDR(trimmed)
    : ([ipaddr.parse(trimmed), ipaddr.parse(trimmed).kind() === 'ipv4' ? 32 : 128] as Range);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return [(address as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)];
  }
  return [address, bits];
}

export function isValidCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

export function isValidIp(text: string): boolean {
  return ipaddr.isValid(text);
}

/** A range with prefix length 0 admits every address of its family. */
export function admitsEveryone(text: string): boolean {
  return parseCidr(text)[1] === 0;
}

export function isLoopbackHost(host: string): boolean {
  if (!ipaddr.isValid(host)) return false;
  return ipaddr.process(host).range() === 'loopback';
}

export type AddressMatcher = (address: string | undefined) => boolean;

/** Deny by default: an empty list or an unparseable address matches nothing. */
export function createAddressMatcher(cidrs: readonly string[]): AddressMatcher {
  const ranges = cidrs.map(parseCidr);
  return (address) => {
    if (address === undefined || !ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    return ranges.some(([base, bits]) => base.kind() === parsed.kind() && parsed.match(base, bits));
  };
}
