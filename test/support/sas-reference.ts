import { webcrypto } from 'node:crypto';

// A second, independent SAS implementation written from the published format,
// for checking tokens Rampart issues and feeding it tokens a device would make.
// It shares no code with src/crypto/sas.ts on purpose: percent-encoding is done
// byte by byte and the HMAC through WebCrypto.

const UNRESERVED = /[A-Za-z0-9\-_.!~*'()]/;

/** Percent-encoding as `encodeURIComponent` specifies it (upper-case hex), or lower-case hex as some signers emit. */
export function percentEncode(text: string, hexCase: 'upper' | 'lower' = 'upper'): string {
  let out = '';
  for (const char of text) {
    if (UNRESERVED.test(char)) {
      out += char;
      continue;
    }
    for (const byte of new TextEncoder().encode(char)) {
      const hex = byte.toString(16).padStart(2, '0');
      out += `%${hexCase === 'upper' ? hex.toUpperCase() : hex}`;
    }
  }
  return out;
}

export interface ReferenceTokenInput {
  readonly uri: string;
  readonly key: string;
  /** Left out of the token when undefined (IoT Hub device tokens). */
  readonly keyName?: string;
  readonly expiry: number;
  readonly encoding: 'utf8' | 'base64';
  readonly hexCase?: 'upper' | 'lower';
}

export async function referenceSignature(encodedUri: string, expiry: string, key: string, encoding: 'utf8' | 'base64'): Promise<string> {
  const keyBytes = encoding === 'utf8' ? new TextEncoder().encode(key) : Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
  const hmacKey = await webcrypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await webcrypto.subtle.sign('HMAC', hmacKey, new TextEncoder().encode(`${encodedUri}\n${expiry}`)));
  return btoa(String.fromCharCode(...mac));
}

export async function referenceToken(input: ReferenceTokenInput): Promise<string> {
  const sr = percentEncode(input.uri, input.hexCase);
  const se = String(input.expiry);
  const sig = percentEncode(await referenceSignature(sr, se, input.key, input.encoding), input.hexCase);
  const skn = input.keyName === undefined ? '' : `&skn=${input.keyName}`;
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${se}${skn}`;
}

/** Recomputes a token's signature from its own `sr` and `se` under `key`; true when it matches. */
export async function referenceVerify(token: string, key: string, encoding: 'utf8' | 'base64'): Promise<boolean> {
  const fields = new URLSearchParams(token.replace(/^SharedAccessSignature /, ''));
  const raw = Object.fromEntries(token.replace(/^SharedAccessSignature /, '').split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const sr = raw['sr'];
  const se = raw['se'];
  const sig = fields.get('sig');
  if (sr === undefined || se === undefined || sig === null) return false;
  return (await referenceSignature(sr, se, key, encoding)) === sig;
}

/** The decoded resource URI and expiry of a token. */
export function referenceClaims(token: string): { uri: string; expiry: number; keyName: string | null } {
  const fields = new URLSearchParams(token.replace(/^SharedAccessSignature /, ''));
  return { uri: fields.get('sr') ?? '', expiry: Number(fields.get('se')), keyName: fields.get('skn') };
}
