import { InvalidArgumentError, type Command } from 'commander';
import { parseTrackingNumber } from '../delivery/shipments/tracking-number.ts';
import { action, cliActor, loadCliConfig, type GlobalOptions } from './context.ts';

// `rampart proof …`: proof-of-delivery operations from the shell, audited
// with the operating-system user as the actor. `shred` answers a recipient's
// erasure request before the retention period ends: the images and the
// personal part go, the receipt and the non-personal facts keep verifying.

function trackingNumberArgument(text: string): string {
  const parsed = parseTrackingNumber(text);
  if (parsed === undefined) throw new InvalidArgumentError('expected a tracking number such as RP-7K2M-Q9XD-4HT (its check character must match)');
  return parsed;
}

export function registerProof(program: Command): void {
  const proof = program.command('proof').description('proofs of delivery (audited)');

  proof
    .command('shred')
    .description('delete the personal data (signer name, signature, photo) of a shipment\'s proof of delivery now, for an erasure request; the receipt keeps verifying')
    .argument('<tracking-number>', 'the shipment\'s tracking number', trackingNumberArgument)
    .action(
      action(async (trackingNumber: string) => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { ProofArchive }, { systemClock }, { RampartError }] = await Promise.all([
          import('./maintenance.ts'),
          import('../delivery/proof/proofs.service.ts'),
          import('../kernel/clock.ts'),
          import('../kernel/errors.ts'),
        ]);
        const { database, keyring } = await openForMaintenance(config);
        try {
          const row = await database.db
            .selectFrom('proofs')
            .innerJoin('shipments', 'shipments.id', 'proofs.shipment_id')
            .select(['proofs.id as id', 'proofs.receipt_id as receiptId'])
            .where('shipments.tracking_number', '=', trackingNumber)
            .executeTakeFirst();
          if (row === undefined) throw new RampartError('proof.not_found', `no proof of delivery for shipment ${trackingNumber}`);
          const archive = new ProofArchive({ db: database.db, keyring, clock: systemClock });
          const shredded = await archive.shred(row.id, 'erasure_request', { actor: await cliActor() });
          process.stdout.write(`${shredded ? 'shredded' : 'already shredded'}: proof ${row.id} of ${trackingNumber} (receipt ${row.receiptId} still verifies)\n`);
        } finally {
          await database.close();
        }
      }),
    );
}
