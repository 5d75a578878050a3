// `npm run screenshots`: every console screen at 1280×800, as each role sees
// it, written to docs/screenshots/. A Rampart of its own (temporary data) is
// seeded with the demo world, the demo's drones and vans send telemetry
// through the real device plane and MQTT listener, and Chromium signs in as
// the administrator, the dispatcher and an auditor and opens every screen the
// navigation offers them. Needs the console built (`npm run build:web`).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RURAL_DEPOT } from '../src/delivery/demo/world.ts';
import { prepareSimulatedFleet } from '../src/simulate/fleet.ts';
import { runSimulation } from '../src/simulate/run.ts';
import { launchChromium, type Person } from '../test/support/chromium.ts';
import { seedDemoWorld } from '../test/support/delivery.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn } from '../test/support/identity.ts';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const say = (text: string) => process.stdout.write(`${text}\n`);

const rampart = await startTestRampart();
// The server's clock follows real time here, so "last seen" reads as it would in use.
const follow = setInterval(() => rampart.clock.advance(Math.max(0, Date.now() - rampart.clock.now().getTime())), 250);
const controller = new AbortController();
const chromium = await launchChromium();
try {
  const { running } = rampart;
  const admin = await signInAdmin(rampart);
  const { dispatcher } = await seedDemoWorld(rampart, 'screenshots');
  const auditor = await createSignedInUser(rampart, admin, 'audrey', 'auditor');

  const devices = await prepareSimulatedFleet({ database: running.database, keyring: running.keyring, config: rampart.config, actor: { type: 'cli', id: 'screenshots', authMethod: 'local_shell' }, drones: 4, trucks: 6, tokenSeconds: 3600 });
  let acknowledged = 0;
  const simulation = runSimulation({
    devices,
    depot: RURAL_DEPOT.location,
    deviceUrl: running.urls.device,
    mqttUrl: running.mqtt?.url ?? 'mqtt://127.0.0.1:1',
    sasHost: rampart.config.devices.sasHosts[0] ?? 'localhost',
    droneHz: 2,
    truckIntervalSeconds: 2,
    signal: controller.signal,
    onProgress: (stats) => {
      acknowledged = stats.acknowledged;
    },
  });
  // Long enough for the fleet to spread out from the depot, so the map shows where each unit is.
  while (acknowledged < 300) await new Promise((resolve) => setTimeout(resolve, 200));

  mkdirSync(OUT, { recursive: true });
  const shoot = async (person: Person, name: string) => {
    // The live map keeps a stream open, so the network never idles there: its markers are waited for instead.
    if (person.page.url().endsWith('/console/map')) {
      const page = person.page;
      const drawn = async () => {
        const rows = await page.locator('.unit-row:not([disabled])').count();
        return rows > 0 && (await page.locator('.leaflet-marker-icon[data-unit]').count()) >= rows;
      };
      while (!(await drawn())) await page.waitForTimeout(100);
      // Units leave the depot together: wait (up to 90 s) until they are seen apart.
      const apart = async () => Number(await page.evaluate("new Set([...document.querySelectorAll('.leaflet-marker-icon[data-unit]')].map((icon) => icon.style.transform)).size"));
      const until = Date.now() + 90_000;
      while ((await apart()) < 5 && Date.now() < until) await page.waitForTimeout(500);
      process.stdout.write(`map: ${await person.page.locator('.leaflet-marker-icon[data-unit]').count()} markers\n`);
    }
    else await person.page.waitForLoadState('networkidle').catch(() => undefined);
    await person.page.screenshot({ path: `${OUT}${name}.png` });
    say(`docs/screenshots/${name}.png`);
  };

  const visitor = await chromium.person();
  await visitor.page.goto(`${rampart.url}/console/`);
  await visitor.page.getByRole('heading', { name: 'Sign in to Rampart' }).waitFor();
  await shoot(visitor, 'sign-in');
  await visitor.page.goto(`${rampart.url}/console/setup`);
  await visitor.page.getByRole('heading', { name: 'Set up your account' }).waitFor();
  await shoot(visitor, 'setup');
  await visitor.context.close();

  const roles: Array<[string, SignedIn]> = [['dispatcher', dispatcher], ['admin', admin], ['auditor', auditor]];
  for (const [role, user] of roles) {
    const person = await chromium.person();
    await person.enterAs(rampart.url, user);
    await person.page.goto(`${rampart.url}/console/`);
    await person.page.getByRole('navigation', { name: 'Console' }).waitFor();
    const anchors = person.page.getByRole('navigation', { name: 'Console' }).getByRole('link');
    const links: Array<[string, string]> = [];
    for (const anchor of await anchors.all()) links.push([await anchor.innerText(), (await anchor.getAttribute('href')) ?? '']);
    for (const [label, href] of links) {
      if (role !== 'admin' && href === '/console/account') continue;
      await person.page.goto(`${rampart.url}${href}`);
      await person.page.getByRole('heading', { level: 1 }).first().waitFor();
      await shoot(person, `${role}-${label.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-').replace(/-$/, '')}`);
    }
    if (role === 'dispatcher') {
      // A shipment's own page and a route's, from their lists.
      await person.page.goto(`${rampart.url}/console/shipments`);
      await person.page.locator('table tbody tr a').first().click();
      await person.page.getByRole('heading', { name: 'History' }).waitFor();
      await shoot(person, 'dispatcher-shipment');
      await person.page.goto(`${rampart.url}/console/shipments/import`);
      await person.page.getByRole('heading', { level: 1 }).first().waitFor();
      await shoot(person, 'dispatcher-shipment-import');
    }
    await person.context.close();
  }
  controller.abort();
  await simulation;
} finally {
  controller.abort();
  clearInterval(follow);
  await chromium.close();
  await rampart.stop();
}
