// Sign-in timing: does the response time tell an attacker whether an account
// exists? Measures the answer time of the four refusals (unknown user, wrong
// password, disabled account, locked account) against the peer in the same
// run, a successful password check, on one server on this machine, and prints
// medians and ratios. Run: `node bench/signin-timing.ts [rounds]`.

import { performance } from 'node:perf_hooks';
import { Browser, createSignedInUser, signInAdmin, startTestRampart } from '../test/support/identity.ts';

const rounds = Number(process.argv[2] ?? 40);
if (!Number.isInteger(rounds) || rounds < 5 || rounds > 10_000) {
  process.stderr.write('usage: node bench/signin-timing.ts [rounds 5..10000]\n');
  process.exit(2);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

// A high per-source allowance, so this one address is never the thing being locked.
const rampart = await startTestRampart({ identity: { throttle: { freeFailuresPerSource: 10_000 } } });
try {
  const admin = await signInAdmin(rampart);
  const active = await createSignedInUser(rampart, admin, 'bench.ok', 'dispatcher');
  const disabled = await createSignedInUser(rampart, admin, 'bench.off', 'dispatcher');
  const locked = await createSignedInUser(rampart, admin, 'bench.locked', 'dispatcher');
  await admin.browser.post(`/api/v1/users/${disabled.accountId}/disable`);
  for (let i = 0; i < 6; i++) await new Browser(rampart.url).post('/api/v1/auth/login', { username: locked.username, password: `wrong ${i} wrong` });

  const cases: Record<string, { username: string; password: string; expect: number }> = {
    'correct password (peer)': { username: active.username, password: active.password, expect: 200 },
    'unknown user': { username: 'no.such.user', password: 'some password here', expect: 401 },
    'wrong password': { username: active.username, password: 'not the password 1', expect: 401 },
    'disabled account': { username: disabled.username, password: disabled.password, expect: 401 },
    'locked account': { username: locked.username, password: locked.password, expect: 401 },
  };
  const samples = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so drift on a shared machine touches every case alike.
    for (const [name, c] of Object.entries(cases)) {
      if (name === 'wrong password') {
        // Keep the account below its lockout threshold.
        await new Browser(rampart.url).post('/api/v1/auth/login', { username: active.username, password: active.password });
      }
      const started = performance.now();
      const response = await new Browser(rampart.url).post('/api/v1/auth/login', { username: c.username, password: c.password });
      samples.get(name)?.push(performance.now() - started);
      if (response.status !== c.expect) throw new Error(`${name}: expected ${c.expect}, got ${response.status}`);
    }
  }
  const peer = median(samples.get('correct password (peer)') ?? []);
  process.stdout.write(`sign-in answer time, ${rounds} rounds, medians (ratio to a correct password):\n`);
  for (const [name, values] of samples) process.stdout.write(`  ${name.padEnd(26)} ${median(values).toFixed(1).padStart(7)} ms  ×${(median(values) / peer).toFixed(2)}\n`);
} finally {
  await rampart.stop();
}
