import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerAudit } from './cli/audit.ts';
import { registerBackup } from './cli/backup.ts';
import { registerConfig } from './cli/config.ts';
import { registerDemo } from './cli/demo.ts';
import { registerDevice } from './cli/device.ts';
import { registerKeys } from './cli/keys.ts';
import { registerMigrate } from './cli/migrate.ts';
import { registerProof } from './cli/proof.ts';
import { registerReceipt } from './cli/receipt.ts';
import { registerServe } from './cli/serve.ts';
import { registerShipment } from './cli/shipment.ts';
import { registerSimulate } from './cli/simulate.ts';
import { registerUser } from './cli/user.ts';

// The `rampart` command.

// Everything Rampart creates (database, WAL, keys, backups) is readable by its own user only.
process.umask(0o077);

const program = new Command('rampart')
  .description('Rampart: secure-by-default operations platform for drone and truck delivery fleets')
  .version(packageJson.version)
  .option('-c, --config <file>', 'configuration file (default: ./rampart.config.json when present, or RAMPART_CONFIG)')
  .showHelpAfterError()
  .enablePositionalOptions();

registerServe(program, packageJson.version);
registerMigrate(program);
registerConfig(program);
registerKeys(program);
registerBackup(program);
registerUser(program);
registerDevice(program);
registerShipment(program);
registerAudit(program);
registerReceipt(program);
registerProof(program);
registerSimulate(program);
registerDemo(program);

await program.parseAsync(process.argv);
