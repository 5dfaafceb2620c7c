// The web shop's product page in a real browser, with the reviews subgraph slowed by a real HTTP
// hop: name and price show before the reviews subgraph has even received its request (the page's
// query defers reviews and the shipping estimate), and the reviews fill in after it answers. Runs
// against a production gateway that runs only the manifest's operations, as the shop is deployed.
import path from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE } from '../../lib/persisted-manifest.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { buildWeb, WEB_DIST } from '../../scripts/build-web.js';
import { missing, skipped } from '../support/available.js';
import { launchBrowser, type Browser } from '../support/browser.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { gatewayConfig, startStack, type Stack } from '../support/harness.js';

/** How long the reviews subgraph is held: long enough that the page's first paint cannot be waiting for it. */
const REVIEWS_DELAY_MS = 1_500;

const noChromium = await missing('Chromium');

describe.skipIf(noChromium !== undefined)(skipped('the product page defers reviews and the shipping estimate, in Chromium', noChromium), () => {
  let stack: Stack;
  let proxy: DelayProxy;
  let gateway: RunningServer;
  let browser: Browser;
  const sent: Request[] = [];

  beforeAll(async () => {
    await buildWeb(); // skipped when web/dist is the build of the current sources
    stack = await startStack('pglite');
    proxy = await startDelayProxy(stack.urls.reviews);
    gateway = await startGateway(
      gatewayConfig(
        { ...stack.urls, reviews: proxy.url },
        { production: true, webRoot: WEB_DIST, trustedDocuments: { policy: 'manifest', manifestPath: path.join(ROOT, MANIFEST_FILE), adminKey: undefined } },
      ),
    );
    browser = await launchBrowser();
    browser.page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql') sent.push(request);
    });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await proxy?.close();
    await stack?.stop();
  });

  it('shows name and price before the reviews arrive, then the reviews and the shipping estimate', async () => {
    const products = await stack.request('{ products(first: 20) { edges { node { id name reviewCount } } } }');
    const product = (products.data!.products.edges as { node: { id: string; name: string; reviewCount: number } }[]).find((e) => e.node.reviewCount > 0)!.node;
    const { page } = browser;
    proxy.delayMs = REVIEWS_DELAY_MS;
    const from = proxy.forwarded.length;
    try {
      await page.goto(new URL(`/#/products/${encodeURIComponent(product.id)}`, gateway.url).href);
      await page.getByRole('heading', { level: 1, name: product.name }).waitFor();
      const named = performance.now();
      // At the same moment: the price is there, the reviews are still loading.
      await expect(page.locator('p.price').textContent()).resolves.toMatch(/\d/);
      expect(await page.getByText('Loading reviews…').isVisible()).toBe(true);
      await browser.screenshot('product-deferred');

      await page.locator('ul.reviews li').first().waitFor();
      const reviewed = performance.now();
      const reviewsReached = proxy.forwarded[from];
      expect(reviewsReached).toBeDefined();
      // Name and price were on screen before the reviews subgraph even received its request.
      expect(named).toBeLessThan(reviewsReached!);
      expect(reviewed).toBeGreaterThan(reviewsReached!);
      await expect(page.getByText(/standard shipping|Estimate unavailable/).textContent()).resolves.toBeTruthy();
      expect(await page.getByText('Loading reviews…').count()).toBe(0);
    } finally {
      proxy.delayMs = 0;
    }
    // The shop sent the page's operation by its manifest id, by GET, accepting multipart/mixed.
    const pageRequest = sent.find((r) => new URL(r.url()).searchParams.get('operationName') === 'ProductPage')!;
    expect(pageRequest.method()).toBe('GET');
    expect(new URL(pageRequest.url()).searchParams.get('query')).toBeNull();
    expect(pageRequest.headers().accept).toContain('multipart/mixed');
    const response = await pageRequest.response();
    expect(response!.headers()['content-type']).toBe('multipart/mixed; boundary="-"; deferSpec=20220824');
  });
});
