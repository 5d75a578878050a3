import type { Command } from 'commander';
import type { DemoSeedReport } from '../delivery/demo/seed.ts';
import { addDays } from '../delivery/demo/world.ts';
import { action, cliActor, loadCliConfig, type GlobalOptions } from './context.ts';

// `rampart demo seed`: the Contoso Shipping demo world, created through the
// domain services with the operating-system user as the audited actor. Safe
// to run again: what exists is left alone. `npm run demo` runs it on a data
// directory of its own, then starts the server and the simulator.

function summary(report: DemoSeedReport): string {
  const c = report.created;
  const lines = [
    `Contoso Shipping demo world: created ${c.depots} depot(s), ${c.devices} device(s), ${c.drones} drone(s), ${c.vehicles} vehicle(s), ${c.accounts} account(s), ${c.drivers} driver profile(s), ${c.shipments} shipment(s) (windows on ${report.day} and ${addDays(report.day, 1)}, UTC), ${c.routes} planned route(s).`,
  ];
  if (report.routeFallbackReason !== undefined) lines.push(`Road routing failed (${report.routeFallbackReason}): the routes were planned with great-circle distances.`);
  if (report.setupCodes.length > 0) {
    lines.push('', 'One-time setup codes (shown only now; each valid until the time given):', '');
    for (const s of report.setupCodes) lines.push(`    ${s.username.padEnd(10)} ${s.role.padEnd(11)} ${s.setupCode}   until ${s.expiresAt}`);
    lines.push(
      '',
      'Each person signs in with their code (POST /api/v1/auth/setup), chooses a password and enrols a second factor.',
      'A lost or expired code: rampart user reset-password <username> prints a new one.',
    );
  }
  if (report.trackingSamples.length > 0) {
    lines.push('', 'Public tracking pages (on the app plane; shown only now), one new shipment per depot:', '');
    for (const t of report.trackingSamples) lines.push(`    ${t.reference.padEnd(16)} ${t.trackingNumber}   ${t.path}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerDemo(program: Command): void {
  const demo = program.command('demo').description('the Contoso Shipping demo world (docs/OPERATIONS.md, "Demo")');

  demo
    .command('seed')
    .description('create the demo depots, devices, fleet, accounts, shipments and one planned route per driver (audited); a second run creates nothing')
    .action(
      action(async () => {
        const config = await loadCliConfig(program.opts<GlobalOptions>());
        const [{ openForMaintenance }, { createDelivery }, { proofSettings }, { createRoutes }, { webhookSink }, { DeviceRegistry }, { Sessions }, { systemClock }, { seedDemo, alreadySeeded }, { phasedProgress }] = await Promise.all([
          import('./maintenance.ts'),
          import('../delivery/delivery.ts'),
          import('../delivery/proof/settings.ts'),
          import('../delivery/routes/index.ts'),
          import('../delivery/webhooks/index.ts'),
          import('../devices/registry.ts'),
          import('../identity/sessions.ts'),
          import('../kernel/clock.ts'),
          import('../delivery/demo/seed.ts'),
          import('./progress.ts'),
        ]);
        const { database, keyring } = await openForMaintenance(config);
        try {
          const db = database.db;
          const progress = phasedProgress({ depots: 'depots', devices: 'devices', fleet: 'fleet', accounts: 'accounts', shipments: 'shipments', routes: 'routes' });
          const delivery = createDelivery({ db, keyring, clock: systemClock, eventSinks: [webhookSink], proof: proofSettings(config) });
          let report: DemoSeedReport;
          try {
            report = await seedDemo({
              delivery,
              // Planning needs no event log, so the seed never opens it.
              routes: createRoutes({ delivery, planning: config.planning }).routes,
              devices: new DeviceRegistry({ db, keyring, clock: systemClock }),
              users: { db, clock: systemClock, sessions: new Sessions({ db, clock: systemClock, config: config.identity.sessions }), setupCodeTtlHours: config.bootstrap.setupCodeTtlHours },
              change: { actor: await cliActor() },
              onProgress: (p) => progress.report(p),
            });
          } finally {
            progress.stop();
          }
          process.stdout.write(alreadySeeded(report) ? 'Contoso Shipping demo world: already seeded; nothing created.\n' : summary(report));
        } finally {
          await database.close();
        }
      }),
    );
}
