import { InvalidArgumentError, type Command } from 'commander';
import type { DeviceRegistry, DeviceView } from '../devices/registry.ts';
import type { DeviceTokenSettings } from '../devices/tokens.ts';
import { action, cliActor, loadCliConfig, plain, type GlobalOptions } from './context.ts';

// `rampart device …`: the device registry from the shell. Same rules and audit
// entries as the API; the actor is the operating-system user. A running server
// notices disables and rotations made here within a second.

const KINDS = ['drone', 'truck'] as const;
const STATUSES = ['enabled', 'disabled'] as const;
const KEYS = ['primary', 'secondary'] as const;

function oneOf<T extends string>(values: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return text as T;
  };
}

function parseText(max: number): (text: string) => string {
  return (text) => {
    if (text.trim() === '' || text.length > max || plain(text) !== text) throw new InvalidArgumentError(`expected 1 to ${max} printable characters`);
    return text;
  };
}

function parseLimit(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 500) throw new InvalidArgumentError('expected a whole number from 1 to 500');
  return Number(text);
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,8})([smhd]?)$/.exec(text);
  if (match?.[1] === undefined) throw new InvalidArgumentError('expected a duration such as 3600, 90s, 15m, 1h or 7d');
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 1);
  if (seconds < 60) throw new InvalidArgumentError('expected at least 60 seconds');
  return seconds;
}

const HUB = /^[a-z][a-z0-9-]{0,49}$/;
function parseHub(text: string): string {
  if (!HUB.test(text)) throw new InvalidArgumentError('expected a hub name: a–z, 0–9 and "-", starting with a letter');
  return text;
}

interface DeviceContext {
  readonly registry: DeviceRegistry;
  readonly settings: DeviceTokenSettings;
  readonly actor: Awaited<ReturnType<typeof cliActor>>;
}

async function withDevices<T>(program: Command, body: (ctx: DeviceContext) => Promise<T>): Promise<T> {
  const config = await loadCliConfig(program.opts<GlobalOptions>());
  const [{ openForMaintenance }, { DeviceRegistry }, { systemClock }] = await Promise.all([import('./maintenance.ts'), import('../devices/registry.ts'), import('../kernel/clock.ts')]);
  const { database, keyring } = await openForMaintenance(config);
  try {
    const registry = new DeviceRegistry({ db: database.db, keyring, clock: systemClock });
    return await body({ registry, settings: { devices: config.devices, hubs: new Set(Object.keys(config.hubs)) }, actor: await cliActor() });
  } finally {
    await database.close();
  }
}

function describe(device: DeviceView): string {
  return [
    `id:          ${plain(device.id)}`,
    `kind:        ${device.kind}`,
    `name:        ${plain(device.name)}`,
    `depot:       ${plain(device.depot)}`,
    `status:      ${device.status}`,
    `revision:    ${device.revision}`,
    `thumbprints: ${device.thumbprints.length === 0 ? '(none)' : device.thumbprints.join(', ')}`,
    `created:     ${device.createdAt}`,
    `updated:     ${device.updatedAt}`,
    `last seen:   ${device.lastSeenAt ?? 'never'}`,
    '',
  ].join('\n');
}

export function registerDevice(program: Command): void {
  const device = program.command('device').description('register devices, manage their keys and issue SAS tokens (audited)');

  device
    .command('add <id>')
    .description('register a device; prints its two keys once')
    .requiredOption('--kind <kind>', `one of ${KINDS.join(', ')}`, oneOf(KINDS))
    .requiredOption('--name <name>', 'display name', parseText(100))
    .requiredOption('--depot <depot>', 'home depot', parseText(64))
    .action(
      action(async (id: string, options: { kind: (typeof KINDS)[number]; name: string; depot: string }) => {
        await withDevices(program, async ({ registry, actor }) => {
          const created = await registry.add({ id, kind: options.kind, name: options.name, depot: options.depot }, { actor });
          process.stdout.write(
            `registered ${plain(created.device.id)} (${created.device.kind}, ${plain(created.device.depot)})\n\nKeys (shown only now; store them in the device's secure storage):\n\n    primary:   ${created.primaryKey}\n    secondary: ${created.secondaryKey}\n\n`,
          );
        });
      }),
    );

  device
    .command('list')
    .description('list devices')
    .option('--depot <depot>', 'only this depot', parseText(64))
    .option('--kind <kind>', 'only this kind', oneOf(KINDS))
    .option('--status <status>', 'only this status', oneOf(STATUSES))
    .option('--search <text>', 'part of the id or name', parseText(64))
    .option('--limit <n>', 'at most this many (1–500)', parseLimit, 100)
    .action(
      action(async (options: { depot?: string; kind?: (typeof KINDS)[number]; status?: (typeof STATUSES)[number]; search?: string; limit: number }) => {
        await withDevices(program, async ({ registry }) => {
          const page = await registry.list({
            limit: options.limit,
            ...(options.depot === undefined ? {} : { depot: options.depot }),
            ...(options.kind === undefined ? {} : { kind: options.kind }),
            ...(options.status === undefined ? {} : { status: options.status }),
            ...(options.search === undefined ? {} : { q: options.search }),
          });
          for (const d of page.items) process.stdout.write(`${plain(d.id).padEnd(24)} ${d.kind.padEnd(6)} ${d.status.padEnd(9)} ${plain(d.depot).padEnd(16)} ${plain(d.name)}\n`);
          if (page.nextCursor !== null) process.stdout.write('… more: narrow with --search or raise --limit\n');
        });
      }),
    );

  device
    .command('show <id>')
    .description('one device')
    .action(
      action(async (id: string) => {
        await withDevices(program, async ({ registry }) => {
          process.stdout.write(describe(await registry.get(id)));
        });
      }),
    );

  for (const [verb, status] of [['disable', 'disabled'], ['enable', 'enabled']] as const) {
    device
      .command(`${verb} <id>`)
      .description(status === 'disabled' ? 'disable a device; a running server drops its connections within a second' : 'enable a disabled device')
      .action(
        action(async (id: string) => {
          await withDevices(program, async ({ registry, actor }) => {
            const result = await registry.setStatus(id, status, { actor });
            process.stdout.write(`${plain(result.id)}: ${result.status}\n`);
          });
        }),
      );
  }

  device
    .command('rotate-key <id>')
    .description('replace one key; prints the new key once; tokens signed with the old key stop working')
    .requiredOption('--key <which>', `one of ${KEYS.join(', ')}`, oneOf(KEYS))
    .action(
      action(async (id: string, options: { key: (typeof KEYS)[number] }) => {
        await withDevices(program, async ({ registry, actor }) => {
          const result = await registry.rotateKey(id, options.key, { actor });
          process.stdout.write(`${plain(result.device.id)}: new ${options.key} key (shown only now):\n\n    ${result.key}\n\n`);
        });
      }),
    );

  device
    .command('token <id>')
    .description('print a SAS token for the device, signed with its primary key (audited)')
    .requiredOption('--ttl <duration>', 'lifetime: seconds, or 90s, 15m, 1h, 7d (at most devices.maxTokenLifetimeSeconds)', parseTtl)
    .option('--hub <hub>', 'HTTP tokens: the hub (default: <kind>-telemetry)', parseHub)
    .option('--mqtt', 'a token for MQTT (<host>/devices/<id>) instead of HTTP')
    .action(
      action(async (id: string, options: { ttl: number; hub?: string; mqtt?: boolean }) => {
        const [{ issueDeviceToken }, { systemClock }] = await Promise.all([import('../devices/tokens.ts'), import('../kernel/clock.ts')]);
        await withDevices(program, async ({ registry, settings, actor }) => {
          const issued = await issueDeviceToken(registry, settings, id, { ttlSeconds: options.ttl, scope: options.mqtt === true ? 'mqtt' : 'http', ...(options.hub === undefined ? {} : { hub: options.hub }) }, { actor }, systemClock.now().getTime());
          process.stdout.write(`${issued.token}\n`);
        });
      }),
    );
}
