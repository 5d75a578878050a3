import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../kernel/clock.ts';
import { sqliteTarget, type OpenedDatabase } from '../../../test/support/databases.ts';
import { hasCode } from '../../../test/support/errors.ts';
import { ServicePrincipals, type ChangeBy } from './principals.ts';
import { alterLast } from '../../../test/support/tamper.ts';

const BY: ChangeBy = { actor: { type: 'account', id: 'acct_admin', authMethod: 'password+totp' }, context: { sourceIp: '127.0.0.1', requestId: 'req-1' } };

describe('service principals', () => {
  let opened: OpenedDatabase;
  let principals: ServicePrincipals;
  const clock = new ManualClock();

  before(async () => {
    opened = await sqliteTarget.open();
    principals = new ServicePrincipals({ database: opened.database, clock });
  });
  after(() => opened.cleanup());

  const db = () => opened.database.db;
  const auditRows = (targetId: string) => db().selectFrom('audit_entries').selectAll().where('target_id', '=', targetId).orderBy('seq').execute();

  test('create returns a client id and a 256-bit secret once; only a hash of the secret is stored; the change is audited', async () => {
    const created = await principals.create({ name: 'telemetry-export', scopes: ['device.read', 'telemetry.read'] }, BY);
    assert.match(created.clientId, /^sp_[A-Za-z0-9_-]{22}$/);
    assert.equal(created.principal.clientId, created.clientId);
    assert.match(created.clientSecret, /^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url');
    assert.deepEqual(created.principal.scopes, ['telemetry.read', 'device.read']);
    assert.equal(created.principal.status, 'active');
    assert.ok(!('secret_hash' in created.principal) && !('secretHash' in created.principal));

    const row = await db().selectFrom('service_principals').selectAll().where('id', '=', created.principal.id).executeTakeFirstOrThrow();
    assert.equal(row.client_id, created.clientId);
    assert.notEqual(row.secret_hash, created.clientSecret);
    assert.ok(!row.secret_hash.includes(created.clientSecret));
    assert.deepEqual(JSON.parse(row.scopes), ['telemetry.read', 'device.read']);

    const entries = await auditRows(created.principal.id);
    assert.equal(entries.length, 1);
    const entry = entries[0]!;
    assert.equal(entry.action, 'service_principal.create');
    assert.equal(entry.outcome, 'success');
    assert.equal(entry.actor_type, 'account');
    assert.equal(entry.actor_id, 'acct_admin');
    assert.equal(entry.target_type, 'service_principal');
    assert.equal(entry.source_ip, '127.0.0.1');
    const details = JSON.parse(entry.details) as Record<string, unknown>;
    assert.equal(details['name'], 'telemetry-export');
    assert.deepEqual(details['scopes'], ['telemetry.read', 'device.read']);
    assert.ok(!JSON.stringify(entry).includes(created.clientSecret), 'the secret never reaches the audit trail');
    assert.ok(!JSON.stringify(entry).includes(row.secret_hash), 'nor does its hash');
  });

  test('refuses bad names and scopes, and a taken name, without writing anything', async () => {
    const count = async () => ({
      principals: (await db().selectFrom('service_principals').select('id').execute()).length,
      audit: (await db().selectFrom('audit_entries').select('seq').execute()).length,
    });
    const before = await count();
    for (const name of ['A-upper', '1starts-with-digit', 'x', 'has space', `a${'b'.repeat(64)}`, 'dots/slash']) {
      await assert.rejects(principals.create({ name, scopes: ['telemetry.read'] }, BY), hasCode('request.invalid'), name);
    }
    await assert.rejects(principals.create({ name: 'no-scopes', scopes: [] }, BY), hasCode('request.invalid'));
    await assert.rejects(principals.create({ name: 'too-much', scopes: ['telemetry.read', 'user.manage'] }, BY), hasCode('request.invalid', /user\.manage/));
    await assert.rejects(principals.create({ name: 'telemetry-export', scopes: ['telemetry.read'] }, BY), hasCode('oauth.principal_name_taken'));
    assert.deepEqual(await count(), before);
  });

  test('authenticates the right secret only; unknown clients and wrong secrets both fail', async () => {
    const { principal, clientId, clientSecret } = await principals.create({ name: 'auth-check', scopes: ['telemetry.read'] }, BY);
    assert.equal((await principals.authenticate(clientId, clientSecret))?.id, principal.id);
    assert.equal(await principals.authenticate(clientId, alterLast(clientSecret)), undefined);
    assert.equal(await principals.authenticate(clientId, ''), undefined);
    assert.equal(await principals.authenticate(clientId, clientSecret.repeat(10)), undefined);
    assert.equal(await principals.authenticate('sp_unknown', clientSecret), undefined);
    assert.equal(await principals.authenticate('', clientSecret), undefined);
  });

  test('rotateSecret issues a new secret and the old one stops working at once; audited', async () => {
    const { principal, clientId, clientSecret } = await principals.create({ name: 'rotating', scopes: ['device.read'] }, BY);
    const rotated = await principals.rotateSecret(principal.id, BY);
    assert.ok(rotated !== undefined);
    assert.equal(rotated.clientId, clientId, 'the client id stays');
    assert.notEqual(rotated.clientSecret, clientSecret);
    assert.equal(await principals.authenticate(clientId, clientSecret), undefined);
    assert.equal((await principals.authenticate(clientId, rotated.clientSecret))?.id, principal.id);
    const entries = await auditRows(principal.id);
    assert.deepEqual(entries.map((e) => e.action), ['service_principal.create', 'service_principal.rotate_secret']);
    assert.ok(!entries[1]!.details.includes(rotated.clientSecret));
    assert.equal(await principals.rotateSecret('svc_missing', BY), undefined);
  });

  test('disable and enable change the status once each and audit each change', async () => {
    const { principal } = await principals.create({ name: 'toggled', scopes: ['telemetry.read'] }, BY);
    const disabled = await principals.disable(principal.id, BY);
    assert.equal(disabled?.status, 'disabled');
    assert.ok(disabled.updatedAt > principal.updatedAt, 'every change gives a new version, even within the same millisecond');
    assert.equal((await principals.disable(principal.id, BY))?.status, 'disabled', 'disabling again is a no-op');
    assert.equal((await principals.get(principal.id))?.status, 'disabled');
    assert.equal((await principals.enable(principal.id, BY))?.status, 'active');
    const entries = await auditRows(principal.id);
    assert.deepEqual(entries.map((e) => e.action), ['service_principal.create', 'service_principal.disable', 'service_principal.enable']);
    assert.equal(await principals.disable('svc_missing', BY), undefined);
    assert.equal(await principals.enable('svc_missing', BY), undefined);
    assert.equal(await principals.get('svc_missing'), undefined);
  });

  test('lists by name, a page at a time', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await principals.create({ name, scopes: ['telemetry.read'] }, BY);
    const all = (await principals.list({ limit: 100 })).items.map((p) => p.name);
    assert.deepEqual(all, [...all].sort());
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await principals.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((p) => p.name));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, all);
    await assert.rejects(principals.list({ cursor: '!!' }), hasCode('request.invalid'));
    await assert.rejects(principals.list({ cursor: Buffer.from('NOT A NAME').toString('base64url') }), hasCode('request.invalid'));
  });
});
