// Headless Chromium for the browser tests: Debian's chromium (CHROMIUM_PATH overrides it) driven
// by playwright-core, with a fresh profile per launch, and screenshots under test-results/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../lib/paths.js';
import { CHROMIUM_PATH } from './available.js';

export { CHROMIUM_PATH };
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page PNG as test-results/screenshots/<name>.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'shop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
  const page = context.pages()[0] ?? (await context.newPage());
  // Generous: a busy two-core machine may take seconds to answer; every wait is for a condition.
  context.setDefaultTimeout(30_000);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    screenshot: async (name) => void (await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true })),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
