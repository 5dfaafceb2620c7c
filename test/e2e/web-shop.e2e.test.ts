// The web shop in a real browser against a real stack: a new customer registers, finds a product,
// checks out and cancels; the databases are read afterwards. A double click on "Place order"
// places one order. My orders shows an order cancelled by another request without a reload. The
// journey runs again against a production gateway that runs only the manifest's operations (and
// caches public reads), where the shop must send nothing but ids (a subscription: the manifest's text).
// Screenshots of the main pages go to test-results/screenshots/.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../lib/config.js';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE } from '../../lib/persisted-manifest.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { buildWeb, WEB_DIST } from '../../scripts/build-web.js';
import { missing, skipped } from '../support/available.js';
import { launchBrowser, type Browser } from '../support/browser.js';
import { graphql, newProduct, operation, startStack, userToken, type Stack } from '../support/harness.js';
import { byHash, manifest, persisted, send } from '../support/persisted-requests.js';

const [admin] = DEMO_ACCOUNTS;

const MODES: [string, Partial<GatewayConfig>][] = [
  ['a development gateway', {}],
  [
    'a production gateway with trusted documents enforced',
    {
      production: true,
      trustedDocuments: { policy: 'manifest', manifestPath: path.join(ROOT, MANIFEST_FILE), adminKey: undefined },
      responseCache: { enabled: true, redis: undefined },
    },
  ],
];

const noChromium = await missing('Chromium');

describe.skipIf(noChromium !== undefined).each(MODES)(skipped('the web shop in Chromium, on %s', noChromium), (mode, gateway) => {
  const production = gateway.production === true;
  let stack: Stack;
  let browser: Browser;
  let shopUrl: string;
  let adminToken: string;
  /** Every request the shop sent to /graphql. */
  const sent: Request[] = [];
  const customer = { name: 'Wendy Web', email: `wendy-${randomUUID().slice(0, 8)}@example.com`, password: 'wendy-web-1' };
  // Registered through the API; the tests after the first log in as her through the shop.
  const regular = { name: 'Rita Regular', email: `rita-${randomUUID().slice(0, 8)}@example.com`, password: 'rita-regular-1' };

  beforeAll(async () => {
    await buildWeb(); // skipped when web/dist is the build of the current sources
    stack = await startStack('pglite', { gateway: { ...gateway, webRoot: WEB_DIST } });
    shopUrl = new URL('/', stack.gatewayUrl).href;
    // An administrator's token: the test's own free-form operations pass any OPERATIONS policy.
    const adminUser = await stack.users.db.client.user.findUniqueOrThrow({ where: { email: admin.email } });
    adminToken = await userToken({ id: adminUser.id, role: 'ADMIN' });
    const registered = await stack.request(operation('Register'), { input: regular }, adminToken);
    expect(registered.errors).toBeUndefined();
    browser = await launchBrowser();
    browser.page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql') sent.push(request);
    });
    // A build, a whole stack and a browser: more than the suite's default on a busy machine.
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A product only this test sells, so that stock and orders can be checked exactly. */
  const productFor = async (name: string, stock: number) =>
    (await newProduct(stack, { name, stock, description: 'Made for the browser test.', price: 2450, weightGrams: 900, token: adminToken })).id;

  const stockOf = async (productId: string) => (await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: productId } })).stock;
  const ordersOf = async (email: string) => {
    const user = await stack.users.db.client.user.findUniqueOrThrow({ where: { email } });
    return stack.orders!.db.client.order.findMany({ where: { userId: user.id }, include: { items: true }, orderBy: { createdAt: 'asc' } });
  };

  /** Logs in through the shop's form (after logging out whoever is logged in). */
  async function logInAs(page: Page, user: { name: string; email: string; password: string }) {
    await page.goto(shopUrl);
    const logOut = page.getByRole('button', { name: 'Log out' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Products' }).waitFor();
    if (await logOut.isVisible()) await logOut.click();
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByRole('textbox', { name: 'Email' }).fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByText(user.name).waitFor();
  }

  /** Searches the shop for the product, opens its page and puts `quantity` of it in the cart. */
  async function addToCart(page: Page, name: string, quantity: number, screenshots = false) {
    await page.goto(shopUrl);
    await page.getByRole('searchbox', { name: 'Search' }).fill(name);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 product', { exact: true }).waitFor();
    if (screenshots) await browser.screenshot('products');
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.getByText('Shipping', { exact: true }).waitFor();
    if (screenshots) await browser.screenshot('product');
    await page.getByRole('spinbutton', { name: 'Quantity' }).fill(String(quantity));
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('link', { name: 'Cart (' + quantity + ')' }).click();
    await page.getByRole('heading', { name: 'Cart' }).waitFor();
  }

  it('moves the focus to the page content on every navigation, outlined only when a key moved it', async () => {
    const { page } = browser;
    const focused = () =>
      page.evaluate(() => ({ id: document.activeElement?.id, outline: document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : '' }));
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.goto(shopUrl);
    await nav.getByRole('link', { name: 'Products' }).waitFor();
    expect(await focused()).toEqual({ id: 'main', outline: 'none' }); // a first load: no key moved it
    await nav.getByRole('link', { name: /^Cart/ }).click();
    await page.getByRole('heading', { name: 'Cart' }).waitFor();
    expect(await focused()).toEqual({ id: 'main', outline: 'none' }); // a click
    await nav.getByRole('link', { name: 'Products' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('searchbox', { name: 'Search' }).waitFor();
    expect(await focused()).toEqual({ id: 'main', outline: 'solid' }); // a key
    await page.mouse.click(1, 1); // a pointer again, then the skip link by keyboard
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await focused()).toEqual({ id: 'main', outline: 'solid' });
  });

  it('a new customer finds a product, checks out, sees the order confirmed and cancels it', async () => {
    const name = `Browser Lamp ${randomUUID().slice(0, 6)}`;
    const productId = await productFor(name, 5);
    const { page } = browser;

    await addToCart(page, name, 2, !production);
    if (!production) await browser.screenshot('cart');
    // Checking out needs an account: register, and come back to the cart.
    await page.getByRole('main').getByRole('link', { name: 'register', exact: true }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill(customer.name);
    await page.getByRole('textbox', { name: 'Email', exact: true }).fill(customer.email);
    await page.getByLabel('Password').fill(customer.password);
    if (!production) await browser.screenshot('register');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Cart' }).waitFor();
    await page.getByText(customer.name).waitFor();

    await page.getByRole('button', { name: 'Place order' }).click();
    await page.getByRole('heading', { name: 'Order confirmed' }).waitFor();
    if (!production) await browser.screenshot('order-confirmed');
    expect(await stockOf(productId)).toBe(3);
    const [placed] = await ordersOf(customer.email);
    expect(placed).toMatchObject({ status: 'CONFIRMED', totalAmount: 4900, items: [{ productId, quantity: 2, unitPriceAmount: 2450 }] });
    expect(placed!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);

    await page.getByRole('button', { name: /^Cancel order/ }).click();
    await page.getByText('CANCELLED', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'See my orders' }).click();
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
    await page.getByText('1 order', { exact: true }).waitFor();
    await page.getByText('CANCELLED', { exact: true }).waitFor();
    if (!production) await browser.screenshot('my-orders');

    // The databases: the order is cancelled, its stock back, and the reservation released.
    const orders = await ordersOf(customer.email);
    expect(orders.map((o) => o.status)).toEqual(['CANCELLED']);
    expect(await stockOf(productId)).toBe(5);
    const reservation = await stack.catalog.db.client.stockReservation.findUnique({ where: { orderId: placed!.id } });
    expect(reservation?.status).toBe('RELEASED');
  });

  it('a double click on "Place order" places one order', async () => {
    const name = `Browser Kettle ${randomUUID().slice(0, 6)}`;
    const productId = await productFor(name, 5);
    const { page } = browser;
    await logInAs(page, regular);
    const before = await ordersOf(regular.email);

    await addToCart(page, name, 1);
    // Whatever reaches the server: the shop may send the attempt once or twice, never with two keys.
    const keys: string[] = [];
    const record = (request: Request) => {
      const body = request.postDataJSON() as { operationName?: string; variables?: { input?: { idempotencyKey?: string } } } | null;
      if (body?.operationName === 'PlaceOrder') keys.push(String(body.variables?.input?.idempotencyKey));
    };
    page.on('request', record);
    await page.getByRole('button', { name: 'Place order' }).dblclick();
    await page.getByRole('heading', { name: 'Order confirmed' }).waitFor();
    page.off('request', record);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(keys).size).toBe(1);

    const after = await ordersOf(regular.email);
    const fresh = after.filter((o) => !before.some((b) => b.id === o.id));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ status: 'CONFIRMED', items: [{ productId, quantity: 1 }] });
    expect(await stockOf(productId)).toBe(4);
    // The cart was emptied by the order.
    await page.getByRole('link', { name: 'Cart (0)' }).waitFor();
  });

  it('adds a review to a product and shows the new rating', async () => {
    const name = `Browser Mug ${randomUUID().slice(0, 6)}`;
    const productId = await productFor(name, 3);
    const { page } = browser;
    await logInAs(page, regular);
    await page.goto(`${shopUrl}#/products/${productId}`);
    await page.getByText('No reviews yet.').waitFor();
    await page.getByRole('combobox', { name: 'Rating' }).selectOption('4');
    await page.getByRole('textbox', { name: 'Review' }).fill('Keeps the tea warm.');
    await page.getByRole('button', { name: 'Post review' }).click();
    await page.getByRole('status').getByText('Thank you for your review.').waitFor();
    await page.getByText('Keeps the tea warm.').waitFor();
    await page.getByText('4.0 / 5 from 1 review').waitFor();
    if (!production) await browser.screenshot('product-reviewed');
    const reviews = await stack.reviews.db.client.review.findMany({ where: { productId } });
    expect(reviews).toMatchObject([{ rating: 4, body: 'Keeps the tea warm.' }]);
  });

  it('shows an order cancelled elsewhere on My orders without a reload', async () => {
    const productId = await productFor(`Browser Clock ${randomUUID().slice(0, 6)}`, 40);
    const { page } = browser;
    const live = { name: 'Liv Live', email: `liv-${randomUUID().slice(0, 8)}@example.com`, password: 'liv-live-1' };
    const registered = await stack.request(operation('Register'), { input: live }, adminToken);
    expect(registered.errors).toBeUndefined();
    const token = registered.data!.register.token as string;
    // The customer's own requests, as her other tab sends them: by manifest id.
    const asCustomer = async (name: string, variables: Record<string, unknown>) => {
      const res = await send(stack.gatewayUrl, { operationName: name, variables, extensions: byHash(persisted(name).id) }, { headers: { authorization: `Bearer ${token}` } });
      expect(res.errors).toBeUndefined();
      return res.data!;
    };
    const place = async () => (await asCustomer('PlaceOrder', { input: { items: [{ productId, quantity: 1 }] } })).placeOrder.id as string;
    const orderId = await place();
    // What the shop sends over the WebSocket: its subscribe messages.
    const subscribes: { query?: string; operationName?: string; extensions?: { persistedQuery?: { sha256Hash?: string } } }[] = [];
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type: string; payload?: (typeof subscribes)[number] };
        if (message.type === 'subscribe') subscribes.push(message.payload!);
      }),
    );

    await logInAs(page, live);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My orders' }).click();
    const row = page.getByRole('main').getByRole('listitem').filter({ hasText: orderId });
    await row.getByText('CONFIRMED', { exact: true }).waitFor();
    // myOrderUpdates has no first event, so nothing tells when it listens: place orders (in another
    // request) until one appears on the page by itself; from then on every change arrives.
    for (let count = 2; ; count++) {
      await place();
      try {
        await page.getByText(`${count} orders`, { exact: true }).waitFor({ timeout: 3_000 });
        break;
      } catch (err) {
        if (count === 12) throw err;
      }
    }

    // Cancelled by another request, with the customer's token: the page shows it, still without a reload.
    expect((await asCustomer('CancelOrder', { id: orderId })).cancelOrder.status).toBe('CANCELLED');
    await row.getByText('CANCELLED', { exact: true }).waitFor();
    expect(subscribes.length).toBeGreaterThan(0);
    // The subscription went as the manifest's text with its id (a production gateway runs nothing else).
    const entry = manifest.operations.find((o) => o.name === 'LiveMyOrders')!;
    for (const sent of subscribes) {
      expect(sent).toMatchObject({ operationName: 'LiveMyOrders', query: entry.body, extensions: { persistedQuery: { sha256Hash: entry.id } } });
    }
  });

  if (production)
    it('sent every operation by its manifest id, queries as GET; free-form operations are refused', async () => {
      const ids = new Set(manifest.operations.map((o) => o.id));
      expect(sent.length).toBeGreaterThan(10);
      for (const request of sent) {
        const body = request.method() === 'GET'
          ? Object.fromEntries([...new URL(request.url()).searchParams].map(([k, v]) => [k, k === 'operationName' ? v : JSON.parse(v)]))
          : (request.postDataJSON() as Record<string, any>);
        expect(body.query, `${body.operationName} was sent as text`).toBeUndefined();
        expect(ids.has(body.extensions?.persistedQuery?.sha256Hash), `${body.operationName} has no manifest id`).toBe(true);
        const type = manifest.operations.find((o) => o.name === body.operationName)?.type;
        expect(request.method()).toBe(type === 'query' ? 'GET' : 'POST');
      }
      // The same gateway refuses an operation that is not in the manifest, even one of the shop's own as edited text.
      const refused = await graphql(stack.gatewayUrl, '{ products(first: 1) { totalCount } }');
      expect(refused.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    });
});
