import { existsSync } from 'node:fs';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { serviceSkipReason } from './databases.ts';

// Debian's Chromium driven by playwright-core, for the console's browser
// tests. Every page records console errors, uncaught exceptions and CSP
// violations; `assertClean` fails the test on any of them. One browser per
// test file (launch is the slow part), a fresh context per person.

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Why browser tests cannot run here (a failure in CI), or undefined. */
export function chromiumSkipReason(): string | undefined {
  return serviceSkipReason(existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`);
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A new person: their own cookies, a 1280×800 window, every problem recorded. */
  person(): Promise<Person>;
  close(): Promise<void>;
}

export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  readonly problems: string[];
  /** Fails when any console error, uncaught exception or CSP violation happened. `allow` matches expected ones (a refused request's console line). */
  assertClean(allow?: RegExp): void;
  /** axe-core on the current page: the serious and critical violations, described. */
  accessibility(): Promise<string[]>;
  /** Takes over a session signed in through the API (its cookie; the page fetches the CSRF token itself). */
  enterAs(base: string, user: { readonly browser: { readonly cookie: string | undefined } }): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  // Playwright gives every launch a fresh, empty user-data directory and removes it on close.
  const owned = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    browser: owned,
    async person() {
      const context = await owned.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      // Page code as text: this file is type-checked for Node, without the DOM's types.
      await context.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));" });
      return {
        context,
        page,
        problems,
        assertClean(allow) {
          const unexpected = problems.filter((p) => allow === undefined || !allow.test(p));
          if (unexpected.length > 0) throw new Error(`the page reported problems:\n${unexpected.join('\n')}`);
        },
        async enterAs(base, user) {
          const cookie = user.browser.cookie;
          if (cookie === undefined) throw new Error('that user has no session cookie');
          const [name = '', ...value] = cookie.split('=');
          // A __Host- cookie must name its host and path, not a URL.
          await context.addCookies([{ name, value: value.join('='), domain: new URL(base).hostname, path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
        },
        async accessibility() {
          await page.evaluate(axe.source);
          const result = await page.evaluate<axe.AxeResults>("axe.run(document, { resultTypes: ['violations'] })");
          return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact ?? ''}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        },
      };
    },
    async close() {
      await owned.close();
    },
  };
}
