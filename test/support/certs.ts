import 'reflect-metadata'; // required by @peculiar/x509's dependency injection
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
}

/** A self-signed P-256 server certificate for 127.0.0.1 and localhost, written as PEM files in `dir`. */
export async function selfSignedCertificate(dir: string, name = 'server'): Promise<CertificateFiles> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
    ],
  });
  const certPem = cert.toString('pem');
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, certPem);
  writeFileSync(keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
  return { certFile, keyFile, certPem };
}

export interface IssuedCertificate extends CertificateFiles {
  /** SHA-256 of the DER certificate, lower-case hex: what a device registers. */
  readonly thumbprint: string;
}

export interface CertificateAuthority {
  readonly caFile: string;
  /** A client certificate for `name`, signed by this CA. */
  issue(name: string): Promise<IssuedCertificate>;
}

/** A throwaway CA for device client certificates, written as PEM in `dir`. */
export async function certificateAuthority(dir: string, name = 'device-ca'): Promise<CertificateAuthority> {
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const caFile = join(dir, `${name}.crt`);
  writeFileSync(caFile, ca.toString('pem'));
  let serial = 1;
  return {
    caFile,
    async issue(subject: string) {
      const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      serial++;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString(16).padStart(2, '0'),
        subject: `CN=${subject}`,
        issuer: ca.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
      });
      const certPem = cert.toString('pem');
      const certFile = join(dir, `${subject}.crt`);
      const keyFile = join(dir, `${subject}.key`);
      writeFileSync(certFile, certPem);
      writeFileSync(keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
      const thumbprint = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
      return { certFile, keyFile, certPem, thumbprint };
    },
  };
}
