import type { Command } from 'commander';
import type { BundleVerification, ReceiptClaims } from '../delivery/proof/core/index.ts';
import { action, loadCliConfig, type GlobalOptions } from './context.ts';

// `rampart receipt …`: verify a proof-of-delivery receipt or export bundle
// offline (no database, no master key), and print the receipt keys to verify with.

/** Largest file `receipt verify` reads: a bundle holds two images as base64. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function registerReceipt(program: Command): void {
  const receipt = program.command('receipt').description('proof-of-delivery receipts');

  receipt
    .command('verify')
    .description('check offline that a receipt (compact JWS) or proof export bundle is genuine and unaltered; exit 1 if not')
    .argument('<file>', 'a receipt (as given to the customer) or an export bundle (JSON)')
    .option('--jwks <file>', 'receipt public keys obtained apart from the file (`rampart receipt jwks`, or saved from https://<app plane>/.well-known/rampart-receipt-keys.json); required for a bare receipt, optional for a bundle (which carries its own)')
    .action(
      action(async (file: string, options: { jwks?: string }) => {
        const [{ readFile, stat }, { RampartError }, proof] = await Promise.all([import('node:fs/promises'), import('../kernel/errors.ts'), import('../delivery/proof/core/index.ts')]);
        const read = async (path: string, what: string): Promise<string> => {
          try {
            if ((await stat(path)).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
            return await readFile(path, 'utf8');
          } catch (error) {
            throw new RampartError('proof.file_unreadable', `cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
          }
        };
        const parseJson = (text: string, path: string): unknown => {
          try {
            return JSON.parse(text);
          } catch (error) {
            throw new RampartError('proof.file_unreadable', `${path} is not JSON: ${(error as Error).message}`, { cause: error });
          }
        };
        const jwks = options.jwks === undefined ? undefined : parseJson(await read(options.jwks, 'key file'), options.jwks);
        const text = (await read(file, 'file')).trim();

        if (text.startsWith('{')) {
          const result = await proof.verifyProofBundle(parseJson(text, file), jwks === undefined ? {} : { jwks });
          if (!result.ok) throw new RampartError(result.stage === 'bundle' ? 'proof.bundle_not_genuine' : result.stage === 'receipt' ? 'proof.receipt_not_genuine' : 'proof.record_mismatch', `${file}: NOT GENUINE: ${result.message}`);
          await printBundle(file, result);
          return;
        }
        if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) {
          throw new RampartError('proof.file_unreadable', `${file} holds neither a receipt (a compact JWS) nor an export bundle (JSON)`);
        }
        if (jwks === undefined) {
          throw new RampartError('proof.file_unreadable', 'a receipt carries no keys: pass --jwks <file> with the receipt public keys (`rampart receipt jwks`, or saved from /.well-known/rampart-receipt-keys.json)');
        }
        const result = await proof.verifyReceipt(text, jwks);
        if (!result.ok) throw new RampartError('proof.receipt_not_genuine', `${file}: NOT GENUINE (${result.reason.replaceAll('_', ' ')}): ${result.message}`);
        await printLines([`${file}: GENUINE and UNALTERED receipt — signature verified with receipt key ${result.kid}`, ...claimLines(result.claims)]);
      }),
    );

  receipt
    .command('jwks')
    .description('print the receipt public keys (current and rotated out) as a JWKS, to verify receipts with elsewhere')
    .action(
      action(async () => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openDatabase, prepareSchema }, { commandLogger }, { receiptJwks }] = await Promise.all([import('../storage/database.ts'), import('./logging.ts'), import('../delivery/proof/core/index.ts')]);
        // Public keys only: no master key and no keyring are needed.
        const database = await openDatabase(config, commandLogger(config));
        try {
          await prepareSchema(database, false);
          process.stdout.write(`${JSON.stringify(await receiptJwks(database.db), null, 2)}\n`);
        } finally {
          await database.close();
        }
      }),
    );
}

async function printLines(lines: readonly string[]): Promise<void> {
  const { escapeControl } = await import('../audit/escape.ts');
  process.stdout.write(`${lines.map((line) => escapeControl(line)).join('\n')}\n`);
}

function claimLines(claims: ReceiptClaims): string[] {
  const { location } = claims;
  return [
    `  receipt id:      ${claims.jti}`,
    `  issuer:          ${claims.iss}`,
    `  tracking number: ${claims.tracking_number}`,
    `  delivered at:    ${claims.delivered_at} (device clock: ${claims.device_time})`,
    `  location:        ${location.lat}, ${location.lon} (±${location.accuracy_m} m), ${location.distance_m} m from the destination: ${claims.location_verified ? 'verified (within the radius)' : 'NOT verified (beyond the radius)'}`,
    `  PIN verified:    ${claims.pin_verified ? 'yes' : 'no'}`,
    `  signed by:       ${claims.relationship}`,
    `  content hash:    sha256:${claims.content_hash}`,
    `  image hashes:    signature sha256:${claims.image_hashes.signature}${claims.image_hashes.photo === undefined ? '' : `, photo sha256:${claims.image_hashes.photo}`}`,
  ];
}

async function printBundle(file: string, result: Extract<BundleVerification, { ok: true }>): Promise<void> {
  const images = Object.entries(result.images).map(([role, status]) => `${role} ${status === 'matches' ? 'matches its hash' : 'not included (shredded or not exported)'}`);
  await printLines([
    `${file}: GENUINE and UNALTERED export — bundle signature, receipt (key ${result.kid}) and record verified`,
    ...claimLines(result.claims),
    `  record:          unaltered (content hash matches); personal data ${result.personalData === 'present' ? 'present and matching its commitment' : 'shredded (the facts and the commitment still verify)'}`,
    `  images:          ${images.join('; ')}`,
    result.keysFrom === 'given'
      ? '  keys:            from --jwks'
      : '  keys:            the bundle\'s own: this proves the bundle is unaltered since it was signed, not who signed it; pass --jwks with keys obtained apart from the file to prove that',
  ]);
}
