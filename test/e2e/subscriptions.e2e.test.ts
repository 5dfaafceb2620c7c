// Federated subscriptions through the gateway, with real graphql-ws and graphql-sse clients: order
// and stock events from the owning subgraph, completed with other subgraphs' fields; access;
// limits; replicas; a restarting subgraph; shutdown.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { catalog } from '../../subgraphs/catalog/server.js';
import type { CatalogDb } from '../../subgraphs/catalog/db.js';
import { orders } from '../../subgraphs/orders/server.js';
import { describeOnBackends, gatewayConfig, graphql, newProduct, operation, snapshot, startStack, subgraphConfig, TEST_KEYS, TEST_REDIS_URL, type Stack } from '../support/harness.js';
import { missing, skipped } from '../support/available.js';
import { waitFor } from '../support/wait.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { connectWs, subscribeSse, type Subscription, type WsConnection } from '../support/subscription-client.js';
import { Tokens } from '../../lib/security/auth.js';
import { ROOT } from '../../lib/paths.js';
import { generateSigningKey } from '../../lib/security/keys.js';
import { createLogger } from '../../lib/logger.js';
import WebSocket from 'ws';

const [admin, alice, bob] = DEMO_ACCOUNTS;
const noRedis = await missing('Redis');

await describeOnBackends('subscriptions on %s', (backend) => {
  let stack: Stack;
  let adminToken: string;
  let aliceToken: string;
  let bobToken: string;
  let categoryId: string;
  const connections: WsConnection[] = [];
  const connect = (token?: string, params?: Record<string, unknown>, url = stack.gatewayUrl) => {
    const c = connectWs(url, token, params);
    connections.push(c);
    return c;
  };

  beforeAll(async () => {
    stack = await startStack(backend);
    [adminToken, aliceToken, bobToken] = await Promise.all([
      stack.login(admin.email, admin.password),
      stack.login(alice.email, alice.password),
      stack.login(bob.email, bob.password),
    ]);
    categoryId = (await stack.request('{ categories { id } }')).data!.categories[0].id;
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.dispose()));
    await stack?.stop();
  });

  /** A product only this test sells, at this stock and price. */
  const stocked = (stock: number, price?: number) => newProduct(stack, { stock, price, categoryId, token: adminToken });
  const place = async (productId: string, token = aliceToken) => {
    const res = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId, quantity: 1 }] } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.placeOrder as { id: string; status: string };
  };
  /**
   * A subscription without a first event (myOrderUpdates) gives no sign that it listens: place
   * orders until one of them shows on it; every order after that shows for certain.
   */
  async function untilListening(sub: Subscription, productId: string, token: string) {
    for (let attempt = 1; ; attempt++) {
      const order = await place(productId, token);
      try {
        await sub.next((e) => e.data?.myOrderUpdates?.id === order.id, 'a fence order', 2_000);
        return;
      } catch (err) {
        if (attempt === 15) throw err;
      }
    }
  }
  const statusOf = (e: { data?: any }) => e.data?.orderUpdated?.status ?? e.data?.myOrderUpdates?.status;

  it("an order placed, confirmed and cancelled reaches its owner's subscription, with fields from catalog and reviews", async () => {
    const p = await stocked(30);
    const mine = connect(aliceToken).subscribe(operation('MyOrderUpdates'));
    await untilListening(mine, p.id, aliceToken);
    const order = await place(p.id);
    const confirmed = await mine.next((e) => e.data?.myOrderUpdates?.id === order.id && statusOf(e) === 'CONFIRMED', 'the confirmation');
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data!.myOrderUpdates.items).toEqual([{ quantity: 1, product: { id: p.id, name: p.name } }]);

    const one = connect(aliceToken).subscribe(operation('OrderUpdates'), { id: order.id });
    // The first event is the order as it is now, completed by catalog (name, stock) and reviews.
    const first = await one.next(() => true, 'the current state');
    expect(first.errors).toBeUndefined();
    const stock = first.data!.orderUpdated.items[0].product.stock as number;
    expect(first.data!.orderUpdated).toMatchObject({ id: order.id, status: 'CONFIRMED', items: [{ quantity: 1, product: { id: p.id, name: p.name, averageRating: null } }] });

    const cancel = await stack.request(operation('CancelOrder'), { id: order.id }, aliceToken);
    expect(cancel.errors).toBeUndefined();
    const cancelled = await one.next((e) => statusOf(e) === 'CANCELLED', 'the cancellation');
    // The stock the cancellation gave back is read per event, from catalog.
    expect(cancelled.data!.orderUpdated.items[0].product.stock).toBe(stock + 1);
    await mine.next((e) => e.data?.myOrderUpdates?.id === order.id && statusOf(e) === 'CANCELLED', 'the cancellation on myOrderUpdates');
    one.stop();
    mine.stop();
  });

  it("another customer receives nothing of someone else's orders, and cannot subscribe to one", async () => {
    const p = await stocked(30);
    const bobs = connect(bobToken).subscribe(operation('MyOrderUpdates'));
    await untilListening(bobs, p.id, bobToken);
    const aliceOrder = await place(p.id, aliceToken);
    await stack.request(operation('CancelOrder'), { id: aliceOrder.id }, aliceToken);
    // Bob's own order is published after Alice's events: once it arrives, hers would have too.
    const bobOrder = await place(p.id, bobToken);
    await bobs.next((e) => e.data?.myOrderUpdates?.id === bobOrder.id, "Bob's own order");
    expect(bobs.events.filter((e) => e.data?.myOrderUpdates?.id === aliceOrder.id)).toEqual([]);
    bobs.stop();

    const spy = connect(bobToken).subscribe(operation('OrderUpdates'), { id: aliceOrder.id });
    const refused = await spy.next(() => true, 'the refusal');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.data ?? null).toBeNull();
    await spy.ended;
  });

  it('an anonymous subscriber to an order is refused', async () => {
    const p = await stocked(10);
    const order = await place(p.id);
    const anonymous = connect().subscribe(operation('OrderUpdates'), { id: order.id });
    // The gateway's access rules refuse it, as it refuses an invalid operation, before anything is subscribed to at the orders subgraph.
    const { error } = await anonymous.ended;
    expect(error).toEqual([expect.objectContaining({ message: 'Unauthorized field or type', path: ['orderUpdated'], extensions: { code: 'UNAUTHENTICATED', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
  });

  it('a forged or expired token closes the connection with 4401', async () => {
    const forger = new Tokens({ users: { signing: generateSigningKey(), verifying: [] } });
    const forged = await forger.sign({ id: 'someone', role: 'ADMIN' });
    const expired = await new Tokens({ users: { signing: TEST_KEYS.users, verifying: [] } }).sign({ id: 'someone', role: 'CUSTOMER' }, Math.floor(Date.now() / 1000) - 60);
    for (const token of [forged, expired, 'not-a-jwt']) {
      const c = connect(token);
      const sub = c.subscribe(operation('ProductUpdates'), { ids: ['00000000-0000-4000-8000-000000000000'] });
      const { error } = await sub.ended;
      expect((error as { code?: number }).code).toBe(4401);
    }
    // `Authorization` (capitalised) is read as well.
    const p = await stocked(3);
    const capital = connect(undefined, { Authorization: `Bearer ${adminToken}` }).subscribe(operation('ProductUpdates'), { ids: [p.id] });
    await capital.next((e) => e.data?.productUpdated?.stock === 3, 'the current stock');
    capital.stop();
  });

  it('a stock change reaches product subscribers, over WebSocket and SSE', async () => {
    const p = await stocked(7);
    const ws = connect().subscribe(operation('ProductUpdates'), { ids: [p.id] });
    const sse = subscribeSse(stack.gatewayUrl, operation('ProductUpdates'), { ids: [p.id] });
    await ws.next((e) => e.data?.productUpdated?.stock === 7, 'the current stock (ws)');
    await sse.next((e) => e.data?.productUpdated?.stock === 7, 'the current stock (sse)');
    const adjusted = await stack.request(operation('AdjustStock'), { productId: p.id, delta: 5 }, adminToken);
    expect(adjusted.errors).toBeUndefined();
    const event = await ws.next((e) => e.data?.productUpdated?.stock === 12, 'the new stock (ws)');
    expect(event.data!.productUpdated).toMatchObject({ id: p.id, inStock: true, price: { amount: 1250, currency: 'USD' } });
    await sse.next((e) => e.data?.productUpdated?.stock === 12, 'the new stock (sse)');
    // An order takes stock through catalog's reservation: subscribers see that too.
    await place(p.id);
    await ws.next((e) => e.data?.productUpdated?.stock === 11, 'the stock after an order');
    ws.stop();
    sse.stop();
  });

  it('subscribers of the same operation, variables and token share one stream at the subgraph; a late joiner gets the current state; tokens never share', async () => {
    const lines: string[] = [];
    const gateway = await startGateway(gatewayConfig(stack.urls), createLogger('gateway', 'info', { write: (line: string) => void lines.push(line) }));
    try {
      const streamsStarted = () => lines.filter((l) => l.includes('"subscription stream started"')).length;
      const p = await stocked(20);
      const ids = { ids: [p.id] };
      const anonymous = [connect(undefined, undefined, gateway.url), connect(undefined, undefined, gateway.url)].map((c) => c.subscribe(operation('ProductUpdates'), ids));
      const signedIn = connect(aliceToken, undefined, gateway.url).subscribe(operation('ProductUpdates'), ids);
      for (const sub of [...anonymous, signedIn]) await sub.next((e) => e.data?.productUpdated?.stock === 20, 'the current stock');
      expect(streamsStarted()).toBe(2); // the two anonymous subscribers share one; alice's token has its own

      await stack.request(operation('AdjustStock'), { productId: p.id, delta: -3 }, adminToken);
      for (const sub of [...anonymous, signedIn]) await sub.next((e) => e.data?.productUpdated?.stock === 17, 'the changed stock');

      // Joining the running stream: its first event is the current state, not nothing.
      const late = connect(undefined, undefined, gateway.url).subscribe(operation('ProductUpdates'), ids);
      const first = await late.next(() => true, 'a first event for the late joiner');
      expect(first.data!.productUpdated).toMatchObject({ id: p.id, stock: 17 });
      expect(streamsStarted()).toBe(2);

      // One subscriber leaving ends nothing for the others; the last one leaving ends the stream.
      anonymous[0]!.stop();
      await stack.request(operation('AdjustStock'), { productId: p.id, delta: 1 }, adminToken);
      for (const sub of [anonymous[1]!, late, signedIn]) await sub.next((e) => e.data?.productUpdated?.stock === 18, 'the stock after one left');
      for (const sub of [anonymous[1]!, late, signedIn]) sub.stop();
      const endedLines = () => lines.filter((l) => l.includes('"subscription ended"'));
      await waitFor('four "subscription ended" log lines', () => endedLines().length >= 4);
      expect(endedLines()).toHaveLength(4);
      const again = connect(undefined, undefined, gateway.url).subscribe(operation('ProductUpdates'), ids);
      await again.next((e) => e.data?.productUpdated?.stock === 18, 'the current stock on a new stream');
      expect(streamsStarted()).toBe(3);
      again.stop();
    } finally {
      await gateway.close();
    }
  });

  it('bad subscriptions are refused with a code and change nothing', async () => {
    const before = await snapshot(stack);
    const c = connect(aliceToken);
    const tooMany = c.subscribe(operation('ProductUpdates'), { ids: Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) });
    expect((await tooMany.next(() => true)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badId = c.subscribe(operation('OrderUpdates'), { id: 'not-a-uuid' });
    expect((await badId.next(() => true)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const query = c.subscribe('{ categories { id } }');
    const { error } = await query.ended;
    expect(JSON.stringify(error)).toContain('BAD_REQUEST');
    const deep = c.subscribe(`subscription { productUpdated(ids: []) { category { products { edges { node { category { products { edges { node { category { products { edges { node { id } } } } } } } } } } } } } }`);
    const deepError = await deep.ended;
    expect(JSON.stringify(deepError.error)).toContain('GRAPHQL_VALIDATION_FAILED');

    // Over SSE, a body that is not JSON or too large gets the same JSON errors as a query's.
    const sse = (body: string) =>
      fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body });
    const notJson = await sse('{ "query": ');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).errors[0]).toMatchObject({ message: 'the request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } });
    const tooLarge = await sse(JSON.stringify({ query: operation('ProductUpdates'), variables: { ids: ['x'], padding: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(await snapshot(stack)).toEqual(before);
  });

  it('limits subscriptions per connection', async () => {
    const gateway = await startGateway(gatewayConfig(stack.urls, { subscriptions: { perConnection: 2, perUser: 3, maxBufferedBytes: 1 << 20 } }));
    try {
      const p = await stocked(1);
      const c = connect(aliceToken, undefined, gateway.url);
      const subs = [0, 1].map(() => c.subscribe(operation('ProductUpdates'), { ids: [p.id] }));
      for (const s of subs) await s.next((e) => e.data?.productUpdated?.stock === 1, 'the current stock');
      const third = c.subscribe(operation('ProductUpdates'), { ids: [p.id] });
      expect((await third.next(() => true)).errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
      // Per user, over connections: one more on a second connection, then refused.
      const c2 = connect(aliceToken, undefined, gateway.url);
      await c2.subscribe(operation('ProductUpdates'), { ids: [p.id] }).next((e) => e.data?.productUpdated?.stock === 1);
      expect((await c2.subscribe(operation('ProductUpdates'), { ids: [p.id] }).next(() => true)).errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
      // Ending one makes room again, once the gateway has seen it end.
      subs[0]!.stop();
      for (let attempt = 1; ; attempt++) {
        const again = await c.subscribe(operation('ProductUpdates'), { ids: [p.id] }).next(() => true);
        if (again.data) break;
        expect(again.errors?.[0]?.extensions?.code).toBe('TOO_MANY_REQUESTS');
        if (attempt === 50) throw new Error('no room after a subscription ended');
      }
    } finally {
      await gateway.close();
    }
  });

  /**
   * A gateway with a small bound on a subscriber's unread bytes, its warnings, a product with a
   * large description, a subscription whose every event is ~100 kB (20 copies of the description,
   * and the reviews), so that the loopback's kernel buffers (a few MB) fill in a bounded number of
   * events and past them the bytes wait in the gateway's process, which is what it must bound.
   */
  async function slowConsumerSetup() {
    const warnings: string[] = [];
    const gateway = await startGateway(
      gatewayConfig(stack.urls, { subscriptions: { perConnection: 50, perUser: 200, maxBufferedBytes: 64 * 1024 } }),
      createLogger('gateway', 'warn', { write: (line: string) => void warnings.push(line) }),
    );
    const p = await stocked(1000);
    const description = 'x'.repeat(5000);
    const updated = await stack.request('mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }', { id: p.id, input: { description } }, adminToken);
    expect(updated.errors).toBeUndefined();
    const copies = Array.from({ length: 20 }, (_, i) => `d${i}: description`).join(' ');
    const large = `subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id stock ${copies} reviews(first: 10) { edges { node { id rating body } } } } }`;
    const normal = connect(aliceToken, undefined, gateway.url).subscribe(operation('ProductUpdates'), { ids: [p.id] });
    await normal.next((e) => e.data?.productUpdated?.stock === 1000, 'the current stock (normal subscriber)');
    const disconnected = () => warnings.some((line) => line.includes('slow subscriber disconnected'));
    return {
      gateway,
      product: p,
      description,
      large,
      /** Changes the stock in rounds of a few concurrent changes until the gateway gives up on the client; how many events that took. */
      async produceUntilDisconnected(): Promise<number> {
        const MAX_EVENTS = 800; // ~80 MB of events: far more than the kernel's buffers hold
        let produced = 0;
        while (produced < MAX_EVENTS && !disconnected()) {
          const round = await Promise.all([1, -1, 1, -1, 1, -1, 1, -1].map((delta) => stack.request(operation('AdjustStock'), { productId: p.id, delta }, adminToken)));
          for (const res of round) expect(res.errors).toBeUndefined();
          produced += round.length;
        }
        if (!disconnected()) throw new Error(`the gateway did not disconnect a client that stopped reading after ${MAX_EVENTS} events of ~100 kB: it buffers them without bound`);
        return produced;
      },
      /** The normal subscriber on another connection still receives events. */
      async othersStillReceive() {
        const after = await stack.request(operation('AdjustStock'), { productId: p.id, delta: 7 }, adminToken);
        expect(after.errors).toBeUndefined();
        const stock = after.data!.adjustStock.stock as number;
        await normal.next((e) => e.data?.productUpdated?.stock === stock, 'the stock after the slow consumer was disconnected');
        normal.stop();
      },
    };
  }

  it('a subscriber that stops reading is disconnected with 1013 instead of buffered without bound; others keep their events', async () => {
    const slow = await slowConsumerSetup();
    const raw = new WebSocket(slow.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    try {
      const messages: { type: string; payload?: any }[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) => raw.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
      raw.on('message', (data) => void messages.push(JSON.parse(String(data))));
      await new Promise<void>((resolve, reject) => {
        if (raw.readyState === WebSocket.OPEN) resolve(); // opened while the product was made
        raw.once('open', resolve);
        raw.once('error', reject);
      });
      raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${aliceToken}` } }));
      await waitFor('connection_ack', () => messages.some((m) => m.type === 'connection_ack'));
      raw.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: slow.large, variables: { ids: [slow.product.id] } } }));
      await waitFor('first event of the large subscription', () => messages.some((m) => m.type === 'next'));
      const first = messages.find((m) => m.type === 'next')!;
      expect(first.payload.errors).toBeUndefined();
      expect(first.payload.data.productUpdated.d19).toBe(slow.description);

      // The client stops reading: nothing more leaves its socket's receive buffer.
      (raw as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const produced = await slow.produceUntilDisconnected();

      // Read again: the events sent before the disconnection, then the close frame with 1013.
      (raw as unknown as { _socket: { resume(): void } })._socket.resume();
      const close = await Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the slow consumer\'s connection did not close')), 30_000))]);
      expect(close.code).toBe(1013);
      // The gateway dropped what it had not yet sent rather than keep it.
      expect(messages.filter((m) => m.type === 'next').length).toBeLessThan(produced + 1);
      await slow.othersStillReceive();
    } finally {
      raw.terminate();
      await slow.gateway.close();
    }
  }, 180_000);

  it('an SSE subscriber that stops reading is disconnected too; others keep their events', async () => {
    const slow = await slowConsumerSetup();
    const body = JSON.stringify({ query: slow.large, variables: { ids: [slow.product.id] } });
    let received = '';
    let ended = false;
    const request = http.request(slow.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${aliceToken}` },
    });
    try {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        request.once('response', resolve).once('error', reject);
        request.end(body);
      });
      expect(response.statusCode).toBe(200);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (received += chunk));
      for (const done of ['end', 'close', 'aborted', 'error']) response.once(done, () => (ended = true));
      const events = () => received.split('\n\n').filter((e) => e.startsWith('event: next')).length;
      await waitFor('first event of the large subscription', () => events() > 0);
      expect(received).toContain(slow.description);

      // The client stops reading.
      response.socket.pause();
      const produced = await slow.produceUntilDisconnected();
      response.socket.resume();
      await waitFor('the end of the slow consumer\'s response', () => ended);
      expect(events()).toBeLessThan(produced + 1);
      await slow.othersStillReceive();
    } finally {
      request.destroy();
      await slow.gateway.close();
    }
  }, 180_000);

  it("a connection's client address is the one its trusted proxy forwarded, as for queries, and the peer's otherwise", async () => {
    const addressSeen = async (trustedProxies: string[]) => {
      const lines: string[] = [];
      const gateway = await startGateway(gatewayConfig(stack.urls, { trustedProxies }), createLogger('gateway', 'info', { write: (line: string) => void lines.push(line) }));
      const raw = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-forwarded-for': '203.0.113.7' } });
      try {
        await new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject));
        raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${aliceToken}` } }));
        await new Promise((resolve) => raw.once('message', resolve)); // connection_ack
        const opened = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'subscription connection opened');
        return opened?.clientAddress as string;
      } finally {
        raw.terminate();
        await gateway.close();
      }
    };
    expect(await addressSeen(['loopback'])).toBe('203.0.113.7');
    expect(await addressSeen([])).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  });

  it('a connection whose token expires while open is closed with 4401', async () => {
    const p = await stocked(5);
    const issuer = new Tokens({ users: { signing: TEST_KEYS.users, verifying: [] } });
    // A few seconds of validity: enough to connect and receive the first event, even on a busy machine.
    const token = await issuer.sign({ id: 'someone', role: 'CUSTOMER' }, Math.floor(Date.now() / 1000) + 4);
    const c = connect(token);
    const sub = c.subscribe(operation('ProductUpdates'), { ids: [p.id] });
    await sub.next((e) => e.data?.productUpdated?.stock === 5, 'the current stock');
    const { error } = await Promise.race([sub.ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the connection was not closed after its token expired')), 30_000))]);
    expect((error as { code?: number }).code).toBe(4401);
    expect(c.closes.map((x) => x.code)).toEqual([4401]);
  });

  it('an event produced through one gateway and one orders replica reaches a subscriber on another', async () => {
    const p = await stocked(30);
    let second: RunningServer | undefined;
    let ordersReplica: RunningSubgraph<unknown> | undefined;
    try {
      // On PostgreSQL a second orders process on the same database; on PGlite (one process per
      // database) the second gateway shares the orders subgraph.
      const ordersUrl =
        backend === 'postgres'
          ? (ordersReplica = await startSubgraph(orders, subgraphConfig('orders', { databaseUrl: stack.databaseUrls!.orders, seed: false, subgraphUrls: stack.urls }))).url
          : stack.urls.orders;
      second = await startGateway(gatewayConfig({ ...stack.urls, orders: ordersUrl }));
      const watcher = connect(aliceToken, undefined, second.url).subscribe(operation('MyOrderUpdates'));
      // The fence orders go through the first gateway and the first orders process, as does this one.
      await untilListening(watcher, p.id, aliceToken);
      const order = await place(p.id);
      const event = await watcher.next((e) => e.data?.myOrderUpdates?.id === order.id, 'the order on the other gateway');
      expect(event.data!.myOrderUpdates.status).toBe('CONFIRMED');
    } finally {
      await second?.close();
      await ordersReplica?.close();
    }
  });

  // Replicas of a subgraph share a database only on PostgreSQL.
  const noRedisReplicas = backend === 'postgres' ? noRedis : 'replicas need a shared PostgreSQL database, not an embedded PGlite';
  it.skipIf(noRedisReplicas !== undefined)(skipped('with REDIS_URL, Redis carries the events between replicas instead of the database', noRedisReplicas), async () => {
    const p = await stocked(30);
    const keyPrefix = `test-${randomUUID()}:`;
    const redis = { url: TEST_REDIS_URL, keyPrefix };
    // What Redis carries, seen from outside: the proof that the event did not travel by NOTIFY.
    const spy = new Redis(TEST_REDIS_URL);
    const carried: string[] = [];
    spy.on('pmessage', (_pattern, channel) => void carried.push(channel));
    await spy.psubscribe(`${keyPrefix}events:*`);
    const replicas: RunningSubgraph<unknown>[] = [];
    const gateways: RunningServer[] = [];
    try {
      // Two orders replicas on the same database, each behind its own gateway, both on Redis.
      for (let i = 0; i < 2; i++) {
        const replica = await startSubgraph(orders, subgraphConfig('orders', { databaseUrl: stack.databaseUrls!.orders, seed: false, subgraphUrls: stack.urls, redis }));
        replicas.push(replica);
        gateways.push(await startGateway(gatewayConfig({ ...stack.urls, orders: replica.url })));
      }
      const watcher = connect(aliceToken, undefined, gateways[1]!.url).subscribe(operation('MyOrderUpdates'));
      const placeThroughFirst = async () => {
        const res = await graphql(gateways[0]!.url, operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 1 }] } }, aliceToken);
        expect(res.errors).toBeUndefined();
        return res.data!.placeOrder as { id: string };
      };
      let order: { id: string } | undefined;
      for (let attempt = 1; !order; attempt++) {
        const placed = await placeThroughFirst();
        // myOrderUpdates has no first event: place until one shows (see untilListening).
        order = await watcher.next((e) => e.data?.myOrderUpdates?.id === placed.id, 'the order through Redis', 2_000).then(() => placed, (err: unknown) => {
          if (attempt === 15) throw err;
          return undefined;
        });
      }
      expect(carried).toContain(`${keyPrefix}events:orders:orders_order_changed`);
    } finally {
      for (const g of gateways) await g.close();
      for (const r of replicas) await r.close();
      spy.disconnect();
    }
  });

  it('trusted documents apply to subscriptions: under OPERATIONS=manifest only the manifest\'s run, by text or by id', async () => {
    const defaults = gatewayConfig(stack.urls);
    const gateway = await startGateway(gatewayConfig(stack.urls, { trustedDocuments: { ...defaults.trustedDocuments, policy: 'manifest' } }));
    try {
      const p = await stocked(4);
      const c = connect(aliceToken, undefined, gateway.url);
      const manifest = JSON.parse(readFileSync(path.join(ROOT, 'operations', 'persisted-query-manifest.json'), 'utf8')) as { operations: { id: string; name: string; body: string }[] };
      const { id, body } = manifest.operations.find((o) => o.name === 'ProductUpdates')!;
      const byText = c.subscribe(body, { ids: [p.id] });
      await byText.next((e) => e.data?.productUpdated?.stock === 4, 'the current stock (manifest text)');
      byText.stop();
      const byId = c.subscribe('', { ids: [p.id] }, { persistedQuery: { version: 1, sha256Hash: id } });
      await byId.next((e) => e.data?.productUpdated?.stock === 4, 'the current stock (manifest id)');
      byId.stop();
      const freeForm = c.subscribe(`subscription { productUpdated(ids: ["${p.id}"]) { id stock } }`);
      const { error } = await freeForm.ended;
      expect(JSON.stringify(error)).toContain('PERSISTED_QUERY_NOT_IN_LIST');
      // An administrator may still send any operation (Apollo Sandbox against production).
      const admin = connect(adminToken, undefined, gateway.url).subscribe(`subscription { productUpdated(ids: ["${p.id}"]) { id stock } }`);
      await admin.next((e) => e.data?.productUpdated?.stock === 4, 'the current stock (admin, free-form)');
      admin.stop();
    } finally {
      await gateway.close();
    }
  });

  it('a gateway shutting down closes its subscriptions with 1012, on which clients reconnect (to the next replica behind the balancer)', async () => {
    // A rolling update: two gateways behind a balancer (a TCP proxy). The client is on the first;
    // the balancer sends new connections to the second, then the first shuts down.
    const first = await startGateway(gatewayConfig(stack.urls));
    const second = await startGateway(gatewayConfig(stack.urls));
    const balancer = await startTcpProxy({ host: '127.0.0.1', port: first.port });
    try {
      const c = connectWs(balancer.via(first.url), undefined, undefined, { retryAttempts: 50 });
      connections.push(c);
      const p = await stocked(2);
      const sub = c.subscribe(operation('ProductUpdates'), { ids: [p.id] });
      await sub.next((e) => e.data?.productUpdated?.stock === 2, 'the current stock');
      balancer.retarget({ host: '127.0.0.1', port: second.port });
      await first.close();
      await waitFor('the close with 1012', () => c.closes.some((x) => x.code === 1012));
      expect(c.closes.map((x) => x.code)).toContain(1012);
      // The client reconnects through the balancer, subscribes again on the second gateway and
      // receives (the stock it subscribes to first, or the change itself: 7 either way).
      const adjusted = await stack.request(operation('AdjustStock'), { productId: p.id, delta: 5 }, adminToken);
      expect(adjusted.errors).toBeUndefined();
      await sub.next((e) => e.data?.productUpdated?.stock === 7, 'an event after reconnecting');
      sub.stop();
    } finally {
      await balancer.close();
      await first.close();
      await second.close();
    }
  });
  it('a restarted subgraph does not leave subscriptions dead: the gateway subscribes again', async () => {
    const p = await stocked(4);
    const sub = connect().subscribe(operation('ProductUpdates'), { ids: [p.id] });
    await sub.next((e) => e.data?.productUpdated?.stock === 4, 'the current stock');
    const port = stack.catalog.port;
    await stack.catalog.close();
    let restarted: RunningSubgraph<CatalogDb> | undefined;
    try {
      // PGlite keeps its data in memory: the product exists again only on PostgreSQL.
      const databaseUrl = stack.databaseUrls?.catalog;
      restarted = await startSubgraph(catalog, subgraphConfig('catalog', { port, databaseUrl }));
      if (backend === 'postgres') {
        // A change as catalog writes one: with its event in the same transaction, published by the outbox.
        const db = restarted.db.client;
        await db.$transaction([db.product.update({ where: { id: p.id }, data: { stock: 40 } }), db.outboxEvent.create({ data: { topic: 'catalog_product_changed', payload: JSON.stringify({ id: p.id }) } })]);
        restarted.db.outbox.wake();
        await sub.next((e) => e.data?.productUpdated?.stock === 40, 'an event after the restart');
      } else {
        // The product is gone with the in-memory database: the re-subscription reports it.
        await sub.next((e) => e.errors?.[0]?.extensions?.code === 'NOT_FOUND', 'the re-subscription');
      }
    } finally {
      sub.stop();
      await restarted?.close();
    }
  });
});
