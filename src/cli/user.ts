import { InvalidArgumentError, type Command } from 'commander';
import type { UserDeps } from '../identity/users.ts';
import type * as UsersModule from '../identity/users.ts';
import { action, cliActor, loadCliConfig, plain, type GlobalOptions } from './context.ts';

// `rampart user …`: account administration for when the console is
// unreachable (or before it exists). Same rules and audit entries as the API;
// the actor is the operating-system user at the shell.

const ROLE_NAMES = ['admin', 'dispatcher', 'driver', 'auditor'] as const;
type RoleName = (typeof ROLE_NAMES)[number];

function parseRole(text: string): RoleName {
  if (!(ROLE_NAMES as readonly string[]).includes(text)) throw new InvalidArgumentError(`expected one of ${ROLE_NAMES.join(', ')}`);
  return text as RoleName;
}

function parseLimit(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 500) throw new InvalidArgumentError('expected a whole number from 1 to 500');
  return Number(text);
}

async function withUsers<T>(program: Command, body: (ctx: { deps: UserDeps; users: typeof UsersModule; actor: Awaited<ReturnType<typeof cliActor>> }) => Promise<T>): Promise<T> {
  const config = await loadCliConfig(program.opts<GlobalOptions>());
  const [{ openForMaintenance }, users, { Sessions }, { systemClock }] = await Promise.all([import('./maintenance.ts'), import('../identity/users.ts'), import('../identity/sessions.ts'), import('../kernel/clock.ts')]);
  const { database } = await openForMaintenance(config);
  try {
    const deps = { db: database.db, clock: systemClock, sessions: new Sessions({ db: database.db, clock: systemClock, config: config.identity.sessions }), setupCodeTtlHours: config.bootstrap.setupCodeTtlHours };
    return await body({ deps, users, actor: await cliActor() });
  } finally {
    await database.close();
  }
}

function printSetupCode(username: string, code: string, expiresAt: string): void {
  process.stdout.write(`One-time setup code for ${username} (valid until ${expiresAt}; shown only now):\n\n    ${code}\n\nGive it to the user over a trusted channel. They sign in with it, set a password and enrol a second factor.\n`);
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('administer accounts when the console is unreachable (audited)');

  user
    .command('create <username>')
    .description('create an account; prints its one-time setup code')
    .requiredOption('--role <role>', `one of ${ROLE_NAMES.join(', ')}`, parseRole)
    .action(
      action(async (username: string, options: { role: RoleName }) => {
        await withUsers(program, async ({ deps, users, actor }) => {
          const created = await users.createUser(deps, { actor }, { username, role: options.role });
          process.stdout.write(`created ${created.user.username} (${created.user.role}) ${created.user.id}\n`);
          printSetupCode(created.user.username, created.setupCode, created.setupCodeExpiresAt);
        });
      }),
    );

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(`${verb} <username>`)
      .description(disabled ? 'disable an account and end its sessions' : 'enable a disabled account')
      .action(
        action(async (username: string) => {
          await withUsers(program, async ({ deps, users, actor }) => {
            const result = await users.setDisabled(deps, { actor }, await users.findUserId(deps.db, username), disabled);
            process.stdout.write(`${result.username}: ${result.status}\n`);
          });
        }),
      );
  }

  user
    .command('reset-mfa <username>')
    .description('remove every second factor; the user enrols again at the next sign-in; ends their sessions')
    .action(
      action(async (username: string) => {
        await withUsers(program, async ({ deps, users, actor }) => {
          const result = await users.resetMfa(deps, { actor }, await users.findUserId(deps.db, username));
          process.stdout.write(`${result.username}: second factors removed, sessions ended; a new factor is enrolled at the next sign-in\n`);
        });
      }),
    );

  user
    .command('reset-password <username>')
    .description('clear the password (also after too many failures); prints a new one-time setup code')
    .action(
      action(async (username: string) => {
        await withUsers(program, async ({ deps, users, actor }) => {
          const result = await users.resetPassword(deps, { actor }, await users.findUserId(deps.db, username));
          printSetupCode(result.user.username, result.setupCode, result.setupCodeExpiresAt);
        });
      }),
    );

  user
    .command('list')
    .description('list accounts')
    .option('--role <role>', 'only this role', parseRole)
    .option('--search <text>', 'part of the username')
    .option('--limit <n>', 'at most this many (1–500)', parseLimit, 100)
    .action(
      action(async (options: { role?: RoleName; search?: string; limit: number }) => {
        await withUsers(program, async ({ deps, users }) => {
          const page = await users.listUsers(deps.db, { limit: options.limit, ...(options.role === undefined ? {} : { role: options.role }), ...(options.search === undefined ? {} : { q: options.search }) });
          for (const u of page.items) process.stdout.write(`${plain(u.username).padEnd(24)} ${u.role.padEnd(10)} ${u.status.padEnd(14)} ${u.passwordDisabled ? 'password-disabled ' : ''}${u.id}\n`);
          if (page.nextCursor !== null) process.stdout.write(`… more: narrow with --search or raise --limit\n`);
        });
      }),
    );
}
