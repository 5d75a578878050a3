import { PERMISSIONS, ROLES, SERVICE_SCOPES, STEP_UP, grants } from './rbac.ts';

const MEANING: Readonly<Record<(typeof PERMISSIONS)[number], string>> = {
  'account.self': 'Own account: sessions, password, second factors',
  'user.read': 'Read any account',
  'user.manage': 'Create, disable and enable accounts; set depot scope',
  'user.role.assign': 'Assign roles',
  'user.mfa.reset': 'Remove a user\'s second factors or password',
  'session.manage': 'List and end anyone\'s sessions',
  'service_principal.manage': 'Create, disable and rotate service principals',
  'audit.read': 'Query the audit trail',
  'device.read': 'Read the device registry',
  'device.manage': 'Register, disable and enable devices',
  'device.key.reveal': 'Reveal or rotate a device key',
  'keys.rotate': 'Rotate data and signing keys',
  'telemetry.read': 'Read telemetry hubs',
  'shipment.read': 'Read shipments (drivers: their own; dispatchers: their depots)',
  'shipment.manage': 'Create and change shipments',
  'route.read': 'Read routes (drivers: their own; dispatchers: their depots)',
  'route.manage': 'Plan and change routes',
  'pod.create': 'Submit proof of delivery for their own stops',
  'pod.export': 'Export proof-of-delivery records',
};

/** docs/PERMISSIONS.md: the matrix, generated from rbac.ts. */
export function renderPermissionsDoc(): string {
  const header = ['permission', 'meaning', ...ROLES, 'service scope', 'step-up'];
  const lines = [
    '# Permission matrix',
    '',
    '<!-- Generated from src/identity/rbac.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Deny by default: a permission not marked here is refused. Every API route declares the one it needs',
    '(`config.access`) and a test walks every route. Object-level rules narrow what a role may see: a driver',
    'only objects they own, a dispatcher with a depot scope only those depots; an object the caller may not',
    'see answers 404, as if it did not exist. **Step-up** permissions also need a second factor proven within',
    '`identity.stepUpMinutes` (default 5).',
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
  ];
  for (const permission of PERMISSIONS) {
    const cells = ROLES.map((role) => (grants(role).includes(permission) ? '✔' : ''));
    const scope = (SERVICE_SCOPES as readonly string[]).includes(permission) ? '✔' : '';
    lines.push(`| \`${permission}\` | ${MEANING[permission]} | ${cells.join(' | ')} | ${scope} | ${STEP_UP.has(permission) ? '✔' : ''} |`);
  }
  lines.push('');
  return lines.join('\n');
}
