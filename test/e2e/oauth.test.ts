import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';
import { alterLast } from '../support/tamper.ts';

// An integration's whole path on a running server: an administrator creates a
// service principal, the integration trades its credentials for a short-lived
// EdDSA token, and the API accepts that token only within its scopes.

describe('service principals over the API', () => {
  let rampart: TestRampart;
  let admin: SignedIn;

  before(async () => {
    rampart = await startTestRampart();
    admin = await signInAdmin(rampart);
  });
  after(() => rampart.stop());

  test('client credentials give a token the API authenticates, limited to the principal\'s scopes', async () => {
    const created = await admin.browser.post<{ clientId: string; clientSecret: string }>('/api/v1/service-principals', { name: 'bi-export', scopes: ['telemetry.read'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const basic = Buffer.from(`${encodeURIComponent(created.body.clientId)}:${encodeURIComponent(created.body.clientSecret)}`).toString('base64');
    const token = await fetch(`${rampart.url}/api/v1/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    assert.equal(token.status, 200);
    assert.equal(token.headers.get('cache-control'), 'no-store');
    const body = (await token.json()) as { access_token: string; expires_in: number; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.expires_in <= 600);
    const header = JSON.parse(Buffer.from(body.access_token.split('.')[0] ?? '', 'base64url').toString()) as { alg: string; typ: string; kid: string };
    assert.deepEqual({ alg: header.alg, typ: header.typ }, { alg: 'EdDSA', typ: 'at+jwt' });
    const jwks = (await (await fetch(`${rampart.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'the signing key is published');

    const outOfScope = await fetch(`${rampart.url}/api/v1/users`, { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(outOfScope.status, 403, 'authenticated, but user.read is not in its scopes');
    const garbage = await fetch(`${rampart.url}/api/v1/users`, { headers: { authorization: `Bearer ${alterLast(body.access_token)}` } });
    assert.equal(garbage.status, 401);
    assert.match(garbage.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('creating a service principal is a sensitive action: it needs a recent second factor', async () => {
    rampart.clock.advance(6 * 60_000);
    const refused = await admin.browser.post('/api/v1/service-principals', { name: 'late', scopes: ['telemetry.read'] });
    assert.equal(refused.status, 401);
    assert.equal(refused.body['code'], 'auth.step_up_required');
  });
});
