import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, launchChromium, type TestBrowser } from '../support/chromium.ts';
import { seedDemoWorld } from '../support/delivery.ts';
import { createSignedInUser, signInAdmin, startTestRampart, type SignedIn, type TestRampart } from '../support/identity.ts';

// Every screen the navigation offers the administrator, the dispatcher and an
// auditor, over the demo world: axe-core finds no serious or critical
// violation, and the keyboard alone reaches every control on the screen —
// Tab walks the page, and each control it lands on shows where the focus is.

const skip = chromiumSkipReason();

// What a person can operate; marked in the page before the walk so each can be told apart.
const MARK = `(() => {
  const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden' && el.closest('dialog:not([open]), details:not([open]) > :not(summary), [inert], [aria-hidden="true"]') === null;
  const marked = [...document.querySelectorAll(selector)].filter(shown);
  marked.forEach((el, i) => el.setAttribute('data-kb', String(i)));
  // A group of radio buttons is one stop for Tab (arrows move inside it).
  return marked.map((el) => el.type === 'radio' ? 'radio:' + el.name : String(el.getAttribute('data-kb')));
})()`;

const FOCUSED = `(() => {
  const el = document.activeElement;
  if (el === null || el === document.body) return null;
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  const what = el.outerHTML.slice(0, 120) + ' [' + style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.boxShadow + ']';
  return { id: el.type === 'radio' ? 'radio:' + el.name : el.getAttribute('data-kb'), visible, what };
})()`;

interface Focused {
  readonly id: string | null;
  readonly visible: boolean;
  readonly what: string;
}

/** Tabs through the page from the top until the focus comes round again; what it reached, and any control focused without a visible mark. */
async function walk(page: Page): Promise<{ reached: Set<string>; unmarked: string[] }> {
  const reached = new Set<string>();
  const unmarked: string[] = [];
  await page.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
  let first: string | undefined;
  for (let presses = 0; presses < 400; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<Focused | null>(FOCUSED);
    if (focused === null) {
      if (first !== undefined) break;
      continue;
    }
    const id = focused.id ?? `unmarked ${focused.what}`;
    if (id === first) break;
    first ??= id;
    reached.add(id);
    if (!focused.visible) unmarked.push(focused.what);
  }
  return { reached, unmarked };
}

describe('every console screen by keyboard and with axe-core', { skip }, () => {
  let rampart: TestRampart;
  let chromium: TestBrowser;
  const people: Array<[string, SignedIn]> = [];

  before(async () => {
    [rampart, chromium] = await Promise.all([startTestRampart(), launchChromium()]);
    const admin = await signInAdmin(rampart);
    const { dispatcher } = await seedDemoWorld(rampart, 'keyboard-test');
    people.push(['dispatcher', dispatcher], ['administrator', admin], ['auditor', await createSignedInUser(rampart, admin, 'kaudit', 'auditor')]);
  });
  after(async () => {
    await chromium.close();
    await rampart.stop();
  });

  test('each screen: no serious or critical axe violation, and Tab reaches every control with the focus shown', { timeout: 300_000 }, async () => {
    const seen = new Set<string>();
    const failures: string[] = [];
    for (const [role, user] of people) {
      const person = await chromium.person();
      await person.enterAs(rampart.url, user);
      await person.page.goto(`${rampart.url}/console/`);
      const navigation = person.page.getByRole('navigation', { name: 'Console' });
      await navigation.waitFor();
      const hrefs: string[] = [];
      for (const link of await navigation.getByRole('link').all()) hrefs.push((await link.getAttribute('href')) ?? '');
      for (const href of hrefs.filter((h) => !seen.has(h))) {
        seen.add(href);
        const { page } = person;
        await page.goto(`${rampart.url}${href}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        // Lists and maps fill in after the heading: wait until nothing is loading.
        await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
        for (const violation of await person.accessibility()) failures.push(`${role} ${href}: axe: ${violation}`);
        const controls = await page.evaluate<string[]>(MARK);
        const { reached, unmarked } = await walk(page);
        const missed = [...new Set(controls)].filter((id) => !reached.has(id));
        for (const id of missed) failures.push(`${role} ${href}: Tab never reaches ${(await page.evaluate<string | null>(`document.querySelector('[data-kb="${id}"]')?.outerHTML.slice(0, 120) ?? null`)) ?? id}`);
        for (const what of unmarked) failures.push(`${role} ${href}: focused without a visible mark: ${what}`);
      }
      person.assertClean();
      await person.context.close();
    }
    assert.ok(seen.size >= 15, `the three roles were offered ${seen.size} screens`);
    assert.deepEqual(failures, []);
  });
});
