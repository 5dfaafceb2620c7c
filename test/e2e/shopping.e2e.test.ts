// Shopping through the gateway: placing and cancelling orders across catalog and orders, reviews,
// catalog administration, and the bad inputs that must change nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokens } from '../../lib/security/auth.js';
import { generateSigningKey } from '../../lib/security/keys.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { describeOnBackends, graphql, newProduct, operation, serviceToken, snapshot, startStack, TEST_KEYS, userToken, type Stack } from '../support/harness.js';

const [admin, alice, bob] = DEMO_ACCOUNTS;

await describeOnBackends('shopping on %s', (backend) => {
  let stack: Stack;
  let adminToken: string;
  let aliceToken: string;
  let bobToken: string;
  let categoryId: string;

  beforeAll(async () => {
    stack = await startStack(backend);
    [adminToken, aliceToken, bobToken] = await Promise.all([
      stack.login(admin.email, admin.password),
      stack.login(alice.email, alice.password),
      stack.login(bob.email, bob.password),
    ]);
    categoryId = (await stack.request('{ categories { id } }')).data!.categories[0].id;
  });
  afterAll(() => stack?.stop());

  /** A product only this test sells, at this stock and price. */
  const stocked = (stock: number, price?: number) => newProduct(stack, { stock, price, categoryId, token: adminToken });
  const place = (items: unknown, token = aliceToken, idempotencyKey?: string) =>
    stack.request(operation('PlaceOrder'), { input: { items, idempotencyKey } }, token);

  describe('placing orders', () => {
    it('charges the catalog price of the moment and takes the stock', async () => {
      const p = await stocked(5, 1999);
      const res = await place([{ productId: p.id, quantity: 2 }]);
      expect(res.errors).toBeUndefined();
      expect(res.data!.placeOrder).toMatchObject({
        status: 'CONFIRMED',
        total: { amount: 3998, currency: 'USD' },
        items: [{ quantity: 2, unitPrice: { amount: 1999, currency: 'USD' }, product: { id: p.id, stock: 3 } }],
      });
      // A later price change does not touch the order's snapshot.
      await stack.request('mutation($id: ID!) { updateProduct(id: $id, input: { price: 5 }) { id } }', { id: p.id }, adminToken);
      const order = await stack.request(operation('OrderDetail'), { id: res.data!.placeOrder.id }, aliceToken);
      expect(order.data!.order.items[0].unitPrice.amount).toBe(1999);
    });

    it('never takes a price from the client', async () => {
      const p = await stocked(5);
      const res = await stack.request('mutation($id: ID!) { placeOrder(input: { items: [{ productId: $id, quantity: 1, price: 1 }] }) { id } }', { id: p.id }, aliceToken);
      expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('sells exactly the stock to 100 concurrent customers, each of whom learns the outcome by sending the order again', async () => {
      const p = await stocked(10);
      const tokens = [aliceToken, bobToken, adminToken];
      // Under load an answer may be a timeout or SERVICE_UNAVAILABLE; the customer then sends the
      // same order with the same key again, which gives back the outcome (or places it anew).
      const customer = async (i: number) => {
        for (let attempt = 1; ; attempt++) {
          const res = await place([{ productId: p.id, quantity: 1 }], tokens[i % 3], `rush-${backend}-${i}`);
          if (res.data?.placeOrder || res.errors?.[0]?.extensions?.code === 'OUT_OF_STOCK' || attempt === 10) return res;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      };
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => customer(i)));
      const confirmed = results.filter((r) => r.data?.placeOrder?.status === 'CONFIRMED');
      const refused = results.filter((r) => r.errors?.[0]?.extensions?.code === 'OUT_OF_STOCK');
      expect(confirmed).toHaveLength(10);
      expect(refused).toHaveLength(90);

      // The databases agree: the stock went to exactly the confirmed orders, and nothing else holds any.
      const catalogDb = stack.catalog.db.client;
      const ordersDb = stack.orders!.db.client;
      expect((await catalogDb.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(0);
      const held = await catalogDb.stockReservation.findMany({ where: { status: { in: ['RESERVED', 'COMMITTED'] }, lines: { some: { productId: p.id } } } });
      const sold = await ordersDb.order.findMany({ where: { items: { some: { productId: p.id } } }, include: { items: true } });
      expect(new Set(held.map((r) => r.orderId))).toEqual(new Set(confirmed.map((r) => r.data!.placeOrder.id)));
      expect(new Set(sold.map((o) => o.id))).toEqual(new Set(confirmed.map((r) => r.data!.placeOrder.id)));
      expect(sold.every((o) => o.status === 'CONFIRMED' && o.items.length === 1)).toBe(true);
      // No FAILED (or PENDING) order holds stock. (A request its customer stopped waiting for may
      // still be running and find its order refused; it holds nothing either: all 10 are sold.)
      const holding = await ordersDb.order.findMany({ where: { id: { in: held.map((r) => r.orderId) }, status: { not: 'CONFIRMED' } } });
      expect(holding).toEqual([]);
    });

    it('gives back the same order for the same idempotencyKey, also when the requests race', async () => {
      const p = await stocked(50);
      const key = `key-${backend}-race`;
      const results = await Promise.all(Array.from({ length: 8 }, () => place([{ productId: p.id, quantity: 3 }], aliceToken, key)));
      const ids = new Set(results.map((r) => r.data?.placeOrder?.id));
      expect(ids.size).toBe(1);
      const again = await place([{ productId: p.id, quantity: 3 }], aliceToken, key);
      expect(again.data!.placeOrder.id).toBe([...ids][0]);
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(47);
      // The key belongs to the user: another user with the same key gets an order of their own.
      const bobs = await place([{ productId: p.id, quantity: 1 }], bobToken, key);
      expect(bobs.data!.placeOrder.id).not.toBe([...ids][0]);
    });

    it('refuses every racing request with the same key when the order is refused, without waiting', async () => {
      const p = await stocked(1);
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 4 }, () => place([{ productId: p.id, quantity: 2 }], aliceToken, `refused-${backend}`)));
      expect(results.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['OUT_OF_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK', 'OUT_OF_STOCK']);
      expect(Date.now() - started).toBeLessThan(9_000); // well inside the 10 s a waiting request would give up after
      expect(await stack.orders!.db.client.order.count({ where: { idempotencyKey: `refused-${backend}` } })).toBe(0);
    });

    it('treats a key that was refused OUT_OF_STOCK as unused: sent again, it is a new attempt at the stock of that moment', async () => {
      const p = await stocked(1);
      const key = `refused-then-stocked-${backend}`;
      const refused = await place([{ productId: p.id, quantity: 2 }], aliceToken, key);
      expect(refused.errors?.[0]?.extensions?.code).toBe('OUT_OF_STOCK');
      expect(await stack.orders!.db.client.order.count({ where: { idempotencyKey: key } })).toBe(0); // nothing kept for the key
      // Sent again while nothing changed: refused again, the same way.
      expect((await place([{ productId: p.id, quantity: 2 }], aliceToken, key)).errors?.[0]?.extensions?.code).toBe('OUT_OF_STOCK');
      // Restocked: the same key now places the order, once.
      expect((await stack.request(operation('AdjustStock'), { productId: p.id, delta: 4 }, await userToken({ id: 'test-admin', role: 'ADMIN' }))).errors).toBeUndefined();
      const placed = await place([{ productId: p.id, quantity: 2 }], aliceToken, key);
      expect(placed.data!.placeOrder).toMatchObject({ status: 'CONFIRMED' });
      expect((await place([{ productId: p.id, quantity: 2 }], aliceToken, key)).data!.placeOrder.id).toBe(placed.data!.placeOrder.id);
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(3);
    });

    it.each([
      ['22 units at the highest price', [[100_000_000, 22]]],
      ['two products that add up to too much', [[100_000_000, 11], [99_999_999, 11]]],
    ])('refuses an order whose total is more than an order can hold (%s), and changes nothing', async (_label, lines) => {
      const products = await Promise.all(lines.map(([price]) => stocked(30, price)));
      const before = await snapshot(stack);
      const res = await place(products.map((p, i) => ({ productId: p.id, quantity: lines[i]![1] })), aliceToken, `too-large-${backend}-${lines.length}`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.items' });
      expect(await snapshot(stack)).toEqual(before);
    });

    it('takes the largest total an order can hold', async () => {
      const p = await stocked(30, 100_000_000);
      const res = await place([{ productId: p.id, quantity: 21 }]);
      expect(res.errors).toBeUndefined();
      expect(res.data!.placeOrder).toMatchObject({ status: 'CONFIRMED', total: { amount: 2_100_000_000, currency: 'USD' } });
    });

    it('refuses products priced in different currencies in one order, and changes nothing', async () => {
      const usd = await stocked(5);
      const eur = await stack.request(
        operation('CreateProduct'),
        { input: { sku: `EUR-${backend}`, name: 'Euro thing', price: 900, currency: 'EUR', stock: 5, weightGrams: 100, categoryId } },
        adminToken,
      );
      const before = await snapshot(stack);
      const res = await place([{ productId: usd.id, quantity: 1 }, { productId: eur.data!.createProduct.id, quantity: 1 }]);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.items' });
      expect(await snapshot(stack)).toEqual(before);
    });

    it.each([
      ['an empty item list', () => [], 'BAD_USER_INPUT'],
      ['a zero quantity', (id: string) => [{ productId: id, quantity: 0 }], 'BAD_USER_INPUT'],
      ['a negative quantity', (id: string) => [{ productId: id, quantity: -1 }], 'BAD_USER_INPUT'],
      ['a huge quantity', (id: string) => [{ productId: id, quantity: 1000 }], 'BAD_USER_INPUT'],
      ['the same product twice', (id: string) => [{ productId: id, quantity: 1 }, { productId: id, quantity: 1 }], 'BAD_USER_INPUT'],
      ['an unknown product', () => [{ productId: randomUUID(), quantity: 1 }], 'BAD_USER_INPUT'],
      ['a malformed product id', () => [{ productId: 'no-such-product', quantity: 1 }], 'BAD_USER_INPUT'],
      ['more than the stock', (id: string) => [{ productId: id, quantity: 4 }], 'OUT_OF_STOCK'],
      ['a wrong type', (id: string) => [{ productId: id, quantity: 'two' }], 'BAD_USER_INPUT'],
    ])('refuses %s and changes nothing', async (_label, items, code) => {
      const p = await stocked(3);
      const before = await snapshot(stack);
      const res = await place((items as (id: string) => unknown)(p.id));
      expect(res.errors?.[0]?.extensions?.code).toBe(code);
      expect(await snapshot(stack)).toEqual(before);
    });

    it('refuses an order without a token, with an expired token and with a forged one', async () => {
      const p = await stocked(3);
      const before = await snapshot(stack);
      const expired = await userToken({ id: 'someone', role: 'CUSTOMER' }, Math.floor(Date.now() / 1000) - 60);
      const forged = await new Tokens({ users: { signing: generateSigningKey(), verifying: [] } }).sign({ id: 'someone', role: 'ADMIN' });
      // No token: placeOrder's scope is missing (the gateway's access rules); a bad token: refused before anything.
      for (const [token, code] of [[undefined, 'UNAUTHENTICATED'], [expired, 'UNAUTHENTICATED'], [forged, 'UNAUTHENTICATED'], ['garbage', 'UNAUTHENTICATED']] as const) {
        const res = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 1 }] } }, token);
        expect(res.errors?.[0]?.extensions?.code).toBe(code);
      }
      expect(await snapshot(stack)).toEqual(before);
    });
  });

  describe('cancelling orders', () => {
    it('returns the stock once, however often it is cancelled', async () => {
      const p = await stocked(5);
      const order = (await place([{ productId: p.id, quantity: 2 }])).data!.placeOrder;
      const first = await stack.request(operation('CancelOrder'), { id: order.id }, aliceToken);
      expect(first.data!.cancelOrder).toEqual({ id: order.id, status: 'CANCELLED' });
      const second = await stack.request(operation('CancelOrder'), { id: order.id }, aliceToken);
      expect(second.data!.cancelOrder.status).toBe('CANCELLED');
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(5);
    });

    it("lets only the owner or an admin cancel", async () => {
      const p = await stocked(5);
      const order = (await place([{ productId: p.id, quantity: 1 }])).data!.placeOrder;
      const before = await snapshot(stack);
      const byBob = await stack.request(operation('CancelOrder'), { id: order.id }, bobToken);
      expect(byBob.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const anonymous = await stack.request(operation('CancelOrder'), { id: order.id });
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const unknown = await stack.request(operation('CancelOrder'), { id: randomUUID() }, aliceToken);
      expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await snapshot(stack)).toEqual(before);
      const byAdmin = await stack.request(operation('CancelOrder'), { id: order.id }, adminToken);
      expect(byAdmin.data!.cancelOrder.status).toBe('CANCELLED');
    });
  });

  describe('reviews', () => {
    it('adds a review that the rating and count reflect at once, and only one per user and product', async () => {
      const p = await stocked(1);
      const res = await stack.request(operation('AddReview'), { input: { productId: p.id, rating: 4, body: 'Nice' } }, aliceToken);
      expect(res.errors).toBeUndefined();
      expect(res.data!.addReview).toMatchObject({ rating: 4, body: 'Nice', author: { name: 'Alice Example' }, product: { id: p.id, averageRating: 4, reviewCount: 1 } });
      const bobs = await stack.request(operation('AddReview'), { input: { productId: p.id, rating: 1 } }, bobToken);
      expect(bobs.data!.addReview.product).toMatchObject({ averageRating: 2.5, reviewCount: 2 });
      const before = await snapshot(stack);
      const twice = await stack.request(operation('AddReview'), { input: { productId: p.id, rating: 5 } }, aliceToken);
      expect(twice.errors?.[0]).toMatchObject({ message: 'you have already reviewed this product', extensions: { code: 'BAD_USER_INPUT' } });
      expect(await snapshot(stack)).toEqual(before);
    });

    it.each([
      ['rating 0', { rating: 0 }, 'BAD_USER_INPUT'],
      ['rating 6', { rating: 6 }, 'BAD_USER_INPUT'],
      ['an overlong body', { rating: 3, body: 'x'.repeat(2001) }, 'BAD_USER_INPUT'],
      ['a rating of the wrong type', { rating: 'five' }, 'BAD_USER_INPUT'],
      ['an unknown product', { rating: 3, productId: randomUUID() }, 'BAD_USER_INPUT'],
    ])('refuses %s and changes nothing', async (_label, input, code) => {
      const p = await stocked(1);
      const before = await snapshot(stack);
      const res = await stack.request(operation('AddReview'), { input: { productId: p.id, ...input } }, aliceToken);
      expect(res.errors?.[0]?.extensions?.code).toBe(code);
      expect(await snapshot(stack)).toEqual(before);
    });

    it('needs a logged-in user', async () => {
      const p = await stocked(1);
      const res = await stack.request(operation('AddReview'), { input: { productId: p.id, rating: 3 } });
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('catalog administration', () => {
    it('lets an admin create and update products and adjust stock, never below zero', async () => {
      const p = await stocked(2);
      const updated = await stack.request(
        'mutation($id: ID!) { updateProduct(id: $id, input: { name: "Renamed", description: null }) { name description } }',
        { id: p.id },
        adminToken,
      );
      expect(updated.data!.updateProduct).toEqual({ name: 'Renamed', description: null });
      const up = await stack.request(operation('AdjustStock'), { productId: p.id, delta: 5 }, adminToken);
      expect(up.data!.adjustStock.stock).toBe(7);
      const before = await snapshot(stack);
      const below = await stack.request(operation('AdjustStock'), { productId: p.id, delta: -8 }, adminToken);
      expect(below.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const unknown = await stack.request(operation('AdjustStock'), { productId: randomUUID(), delta: 1 }, adminToken);
      expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await snapshot(stack)).toEqual(before);
    });

    it('forbids customers and anonymous callers, at the gateway and at the catalog', async () => {
      const p = await stocked(2);
      const before = await snapshot(stack);
      const input = { sku: 'NOPE-1', name: 'x', price: 1, stock: 1, weightGrams: 1, categoryId };
      // The gateway: catalog:write is an admin's scope (the reason says its access rules decided).
      const denied = { code: 'FORBIDDEN', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' };
      expect((await stack.request(operation('CreateProduct'), { input }, aliceToken)).errors?.[0]?.extensions).toEqual(denied);
      expect((await stack.request(operation('CreateProduct'), { input })).errors?.[0]?.extensions).toEqual({ ...denied, code: 'UNAUTHENTICATED' });
      expect((await stack.request(operation('AdjustStock'), { productId: p.id, delta: 1 }, aliceToken)).errors?.[0]?.extensions).toEqual(denied);
      expect(
        (await stack.request('mutation($id: ID!) { updateProduct(id: $id, input: { price: 1 }) { id } }', { id: p.id }, bobToken)).errors?.[0]?.extensions,
      ).toEqual(denied);
      // Sent straight to the catalog, its own check refuses.
      expect((await graphql(stack.catalog.url, operation('CreateProduct'), { input }, aliceToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await graphql(stack.catalog.url, operation('CreateProduct'), { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(await snapshot(stack)).toEqual(before);
    });

    it.each([
      ['a duplicate sku', { sku: 'KIT-00008' }],
      ['a negative price', { price: -1 }],
      ['a negative stock', { stock: -1 }],
      ['an unknown category', { categoryId: randomUUID() }],
      ['an overlong name', { name: 'x'.repeat(201) }],
      ['an empty sku', { sku: '' }],
      ['a malformed currency', { currency: 'dollars' }],
      ['a price of the wrong type', { price: '12.50' }],
    ])('refuses a product with %s and changes nothing', async (_label, change) => {
      const before = await snapshot(stack);
      const input = { sku: `NEW-${randomUUID()}`, name: 'New', price: 100, stock: 1, weightGrams: 10, categoryId, ...change };
      const res = await stack.request(operation('CreateProduct'), { input }, adminToken);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await snapshot(stack)).toEqual(before);
    });

    it('defaults the currency to USD', async () => {
      const input = { sku: `USD-${backend}`, name: 'Dollar thing', price: 100, stock: 1, weightGrams: 10, categoryId };
      const res = await stack.request(operation('CreateProduct'), { input }, adminToken);
      expect(res.data!.createProduct.price).toEqual({ amount: 100, currency: 'USD' });
    });
  });

  describe('the internal stock operations', () => {
    it('are not part of the public graph', async () => {
      const res = await stack.request('mutation { releaseStock(orderId: "x") { orderId } }', {}, adminToken);
      expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('take no stock for an order that was given up (released) before its reservation arrived', async () => {
      const p = await stocked(4);
      const ordersToken = await serviceToken();
      const givenUp = randomUUID();
      const release = await graphql(stack.catalog.url, 'mutation($id: ID!) { releaseStock(orderId: $id) { status } }', { id: givenUp }, ordersToken);
      expect(release.data!.releaseStock.status).toBe('RELEASED');
      const late = await graphql(
        stack.catalog.url,
        'mutation($id: ID!, $items: [ReservationItemInput!]!) { reserveStock(orderId: $id, items: $items) { status } }',
        { id: givenUp, items: [{ productId: p.id, quantity: 2 }] },
        ordersToken,
      );
      expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(4);
    });

    it('refuse anyone but the orders service on the catalog subgraph itself', async () => {
      const before = await snapshot(stack);
      const query = `mutation { releaseStock(orderId: "${randomUUID()}") { orderId } }`;
      expect((await graphql(stack.catalog.url, query, {}, adminToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await graphql(stack.catalog.url, query)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      // The users key cannot vouch for a service, nor the orders key for anyone but orders.
      const asReviews = await new Tokens({ users: { signing: TEST_KEYS.users, verifying: [] } }).sign({ id: 'reviews', role: 'CUSTOMER' });
      expect((await graphql(stack.catalog.url, query, {}, asReviews)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const ordersKeyForAdmin = await new Tokens({ users: { signing: TEST_KEYS.orders, verifying: [] } }).sign({ id: 'orders', role: 'ADMIN' });
      expect((await graphql(stack.catalog.url, query, {}, ordersKeyForAdmin)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(await snapshot(stack)).toEqual(before);
    });
  });
});
