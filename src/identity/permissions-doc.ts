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
  'webhook.manage': 'Change, disable and delete webhook endpoints; read and retry their deliveries',
  'webhook.secret.issue': 'Create a webhook endpoint or rotate its signing secret (the secret is shown once)',
  'telemetry.read': 'Read telemetry hubs',
  'hub.manage': 'Create event hubs and change their retention and content rules (configured hubs change only in the configuration)',
  'shipment.read': 'Read shipments and their history, without recipient data (drivers: their own; dispatchers: their depots)',
  'shipment.manage': 'Create, import, edit and assign shipments; rotate tracking links; mark returned',
  'shipment.recipient.read': 'See a shipment\'s recipient name, phone, address and notes (drivers: their own shipments)',
  'shipment.progress': 'Report delivery progress: out for delivery, failed with a reason (drivers: their own shipments)',
  'shipment.export': 'Export shipments with recipient data as CSV (audited)',
  'depot.read': 'Read depots (dispatchers: their depots)',
  'depot.manage': 'Create and change depots and their service areas',
  'fleet.read': 'Read vehicles, drones and driver profiles (dispatchers: their depots)',
  'fleet.manage': 'Add and change vehicles, drones and driver profiles (dispatchers: their depots)',
  'route.read': 'Read routes (drivers: their own; dispatchers: their depots)',
  'route.manage': 'Plan and change routes',
  'pod.create': 'Submit proof of delivery for their own shipments out for delivery',
  'pod.read': 'Read proofs of delivery: facts, receipt, signer name and images (each read audited)',
  'pod.export': 'Export a proof of delivery as a signed bundle (audited)',
  'pod.shred': 'Shred a proof\'s personal data and images on an erasure request (audited)',
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
