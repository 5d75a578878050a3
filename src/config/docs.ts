import { ConfigSchema, configOptions } from './schema.ts';

function typeOf(schema: Record<string, unknown>): string {
  if (Array.isArray(schema['enum'])) return (schema['enum'] as unknown[]).map((v) => `\`${String(v)}\``).join(' \\| ');
  if (schema['type'] === 'array') return 'list of strings (env: comma-separated)';
  if (schema['type'] === 'object') return 'map (env: JSON object)';
  return typeof schema['type'] === 'string' ? schema['type'] : 'value';
}

function defaultOf(schema: Record<string, unknown>): string {
  if (schema['x-secret'] === true && schema['default'] === undefined) return '(none)';
  const value = schema['default'];
  if (value === undefined) return '(none)';
  if (value === '') return '""';
  return `\`${JSON.stringify(value)}\``;
}

/** Renders docs/CONFIG.md from the schema; a test fails when the file drifts. */
export function renderConfigDoc(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs`. Do not edit by hand. -->',
    '',
    'Rampart reads one JSON file (`rampart.config.json` in the working directory, or the',
    'file named by `--config` or `RAMPART_CONFIG`), then applies `RAMPART_*` environment',
    'variables on top. Unknown keys and unknown `RAMPART_*` variables are errors. The',
    'result is validated before anything listens and then frozen. Relative paths are',
    'resolved against the working directory. `rampart config check` prints the effective',
    'configuration with secrets redacted.',
    '',
    'Start-up is refused, with a message naming the fix, when:',
    '',
    '- a plane binds beyond loopback without `tls` and without `trustedProxies`;',
    '- `env` is `production` and no master key is supplied;',
    '- the admin plane\'s `allow` list contains a `/0` range, or any `trustedProxies` does;',
    '- `keyring.masterKeyFile` is readable or writable by group or others;',
    '- in production, a PostgreSQL server that is not on this machine is reached without `sslmode=require` or stricter.',
    '- in production, `planning.osrmUrl` is plain HTTP to a server that is not on this machine.',
    '',
  ];
  let section: string | undefined;
  for (const option of configOptions()) {
    const segments = option.path.split('.');
    // Top-level scalars share one section; planes get one section each.
    const top = segments.length === 1 ? '' : segments.slice(0, segments[0] === 'planes' ? 2 : 1).join('.');
    if (top !== section) {
      section = top;
      const parent = top === '' ? {} : top.split('.').reduce<Record<string, unknown>>(
        (node, key) => ((node['properties'] as Record<string, Record<string, unknown>>)[key] ?? {}),
        ConfigSchema as unknown as Record<string, unknown>,
      );
      const about = typeof parent['description'] === 'string' ? parent['description'] : '';
      if (lines.at(-1) !== '') lines.push('');
      lines.push(top === '' ? '## General' : `## \`${top}\``, '');
      if (about !== '') lines.push(about, '');
      lines.push('| option | environment | type | default | description |', '| --- | --- | --- | --- | --- |');
    }
    const schema = option.schema;
    const flags = [schema['x-secret'] === true ? 'Secret: redacted when printed.' : '', schema['x-env-only'] === true ? 'Environment only.' : ''].filter(Boolean).join(' ');
    const description = `${typeof schema['description'] === 'string' ? schema['description'] : ''}${flags === '' ? '' : ` ${flags}`}`.replaceAll('|', '\\|');
    lines.push(`| \`${option.path}\` | \`${option.env}\` | ${typeOf(schema)} | ${defaultOf(schema)} | ${description} |`);
  }
  return `${lines.join('\n')}\n`;
}
