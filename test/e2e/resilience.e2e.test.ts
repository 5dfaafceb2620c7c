// What happens when a service dies or is unreachable: the order saga recovers after a crash
// between the two services' writes, an unreachable catalog holds no stock, and a subgraph that
// is down costs only its own fields.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { Tokens } from '../../lib/security/auth.js';
import { createLogger } from '../../lib/logger.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { catalogStock } from '../../subgraphs/orders/catalog-stock.js';
import { ordersMetrics } from '../../subgraphs/orders/metrics.js';
import { orderPlacement } from '../../subgraphs/orders/placement.js';
import { orderRecovery } from '../../subgraphs/orders/recovery.js';
import { createPostgresDatabases, describeOnBackends, freePort, gatewayConfig, graphql, keyEnv, leaksIn, newProduct, operation, serviceToken, startServiceProcess, startStack, subgraphConfig, testTokenKeys, userToken, TEST_REDIS_URL, type Backend, type Stack } from '../support/harness.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import { orders } from '../../subgraphs/orders/server.js';
import type { OrdersDb } from '../../subgraphs/orders/db.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { EventChannel, redisNotifications } from '../../lib/subgraph/events.js';
import { outboxHistory } from '../../lib/subgraph/outbox.js';
import pg from 'pg';
import { ORDER_CHANGED } from '../../subgraphs/orders/live.js';
import { missing, skipped } from '../support/available.js';

const [admin, alice] = DEMO_ACCOUNTS;
const noRedis = await missing('Redis');

/** Whether nothing accepts a TCP connection at this URL's port any more. */
const refusesConnections = (url: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/** The orders subgraph as its own process, the way it runs in production; resolves once it serves. */
const startOrders = (env: Record<string, string>) =>
  startServiceProcess('subgraphs/orders/index.ts', { ...keyEnv('orders'), SEED: 'false', ...env }).then((p) => p.child);

await describeOnBackends('resilience on %s', (backend: Backend) => {
  describe('a crash of the orders service between reservation and confirmation', () => {
    let stack: Stack;
    let child: ChildProcess | undefined;
    let dataDir: string;
    let ordersDb: Awaited<ReturnType<typeof createPostgresDatabases>> | undefined;
    let ordersEnv: Record<string, string>;

    beforeAll(async () => {
      const port = await freePort();
      stack = await startStack(backend, { externalOrders: { url: `http://localhost:${port}/graphql` } });
      dataDir = await mkdtemp(path.join(tmpdir(), 'orders-crash-'));
      ordersDb = backend === 'postgres' ? await createPostgresDatabases() : undefined;
      ordersEnv = {
        ORDERS_PORT: String(port),
        CATALOG_URL: stack.catalog.url,
        DATA_DIR: dataDir,
        ...(ordersDb ? { ORDERS_DATABASE_URL: ordersDb.urls.orders } : {}),
      };
    });
    afterEach(() => {
      child?.kill('SIGKILL');
    });
    afterAll(async () => {
      await stack?.stop();
      await ordersDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('completes the order when the service comes back', async () => {
      const token = await stack.login(alice.email, alice.password);
      const product = (await stack.request(operation('ProductBySku'), { sku: 'KIT-00008' })).data!.productBySku;
      const stockBefore = (await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: product.id } })).stock;

      child = await startOrders({ ...ordersEnv, FAULT_CRASH_AFTER_RESERVE: 'true' });
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
      const res = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity: 2 }] } }, token);
      expect(res.data?.placeOrder ?? null).toBeNull(); // the client saw the crash as an error
      expect(await exited).toBe(86);

      // The crash left stock held for an order that is not confirmed.
      const held = await stack.catalog.db.client.stockReservation.findMany({ where: { status: 'RESERVED' }, include: { lines: true } });
      expect(held).toHaveLength(1);
      expect(held[0]!.lines[0]).toMatchObject({ productId: product.id, quantity: 2 });

      child = await startOrders({ ...ordersEnv, RECOVERY_MIN_AGE_SECONDS: '0', RECOVERY_INTERVAL_MS: '200' });
      const committed = await waitFor('the recovery to commit the held reservation', () =>
        stack.catalog.db.client.stockReservation.findFirst({ where: { orderId: held[0]!.orderId, status: 'COMMITTED' } }),
      );
      expect(committed.orderId).toBe(held[0]!.orderId);
      const order = await stack.request(operation('OrderDetail'), { id: held[0]!.orderId }, token);
      expect(order.data!.order).toMatchObject({ status: 'CONFIRMED', total: { amount: 2 * product.price.amount }, items: [{ quantity: 2 }] });
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(stockBefore - 2);
    });
  });

  describe('a crash of the catalog service between its reservation and its answer', () => {
    let catalogDataDir: string;
    let databases: Awaited<ReturnType<typeof createPostgresDatabases>> | undefined;
    let catalogChild: ChildProcess | undefined;
    let ordersServer: RunningSubgraph<OrdersDb> | undefined;
    let catalogEnv: Record<string, string>;
    let catalogUrl: string;

    beforeAll(async () => {
      const port = await freePort();
      catalogUrl = `http://localhost:${port}/graphql`;
      catalogDataDir = await mkdtemp(path.join(tmpdir(), 'catalog-crash-'));
      databases = backend === 'postgres' ? await createPostgresDatabases() : undefined;
      catalogEnv = {
        ...keyEnv('catalog'),
        CATALOG_PORT: String(port),
        SEED: 'true',
        SEED_SCALE: '0.25',
        ...(databases ? { CATALOG_DATABASE_URL: databases.urls.catalog } : { DATA_DIR: catalogDataDir }),
      };
      // Orders in this process, recovery looking every 200 ms; its minimum age (30 s) is not what frees the key.
      ordersServer = await startSubgraph(
        orders,
        subgraphConfig('orders', {
          databaseUrl: databases?.urls.orders,
          subgraphUrls: { users: '', orders: '', reviews: '', catalog: catalogUrl },
          recovery: { minAgeSeconds: 30, intervalMs: 200 },
        }),
      );
    });
    afterEach(() => {
      catalogChild?.kill('SIGKILL');
    });
    afterAll(async () => {
      await ordersServer?.close();
      await databases?.drop();
      await rm(catalogDataDir, { recursive: true, force: true });
    });

    it('keeps the idempotency key with the failed order until its stock is back, and says so to a retry', async () => {
      const token = await userToken({ id: 'customer-catalog-crash', role: 'CUSTOMER' });
      const service = await serviceToken();
      const place = () =>
        graphql(ordersServer!.url, 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }', { input: { items: [{ productId: product.id, quantity: 2 }], idempotencyKey: 'crash-key' } }, token);
      const stock = async () => (await graphql(catalogUrl, '{ productBySku(sku: "KIT-00008") { id stock } }')).data!.productBySku as { id: string; stock: number };
      const ordersDb = ordersServer!.db.client;

      catalogChild = (await startServiceProcess('subgraphs/catalog/index.ts', { ...catalogEnv, FAULT_CRASH_BEFORE_RESERVE_ANSWER: 'true' })).child;
      const product = await stock();
      const exited = new Promise<number | null>((resolve) => catalogChild!.once('exit', resolve));
      const first = await place();
      expect(await exited).toBe(87); // catalog committed the reservation and died before answering
      expect(first.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
      const [failed, ...others] = await ordersDb.order.findMany({ where: { userId: 'customer-catalog-crash' } });
      expect(others).toEqual([]);
      // The release could not reach catalog: the key stays with the failed order.
      expect(failed).toMatchObject({ status: 'FAILED', idempotencyKey: 'crash-key', stockReleasedAt: null });

      // A retry with the key while the stock is still held is told so, and places nothing.
      const retry = await place();
      expect(retry.errors?.[0]).toMatchObject({
        message: 'the earlier order with this idempotencyKey failed and the stock it took is not back yet; send it again shortly to place it anew',
        extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 },
      });
      expect(await ordersDb.order.count({ where: { userId: 'customer-catalog-crash' } })).toBe(1);

      // Catalog back: recovery returns the 2 units the crashed reservation took, then frees the key.
      catalogChild = (await startServiceProcess('subgraphs/catalog/index.ts', catalogEnv)).child;
      await waitFor('recovery to return the failed order\'s stock', async () => (await ordersDb.order.findUniqueOrThrow({ where: { id: failed!.id } })).stockReleasedAt);
      expect(await ordersDb.order.findUniqueOrThrow({ where: { id: failed!.id } })).toMatchObject({ status: 'FAILED', idempotencyKey: null });
      const reservation = await graphql(catalogUrl, '{ reservation(orderId: "' + failed!.id + '") { status lines { quantity } } }', {}, service);
      expect(reservation.data!.reservation).toEqual({ status: 'RELEASED', lines: [{ quantity: 2 }] });
      expect((await stock()).stock).toBe(product.stock);

      // Now the key places the order anew, once.
      const again = await place();
      expect(again.data!.placeOrder).toMatchObject({ status: 'CONFIRMED' });
      expect(again.data!.placeOrder.id).not.toBe(failed!.id);
      expect((await stock()).stock).toBe(product.stock - 2);
    });
  });

  // Only PostgreSQL can be made unreachable from outside (the embedded PGlite lives in the process).
  const noConnectionToCut = backend !== 'postgres' ? 'the embedded database has no connection to cut' : undefined;
  describe.skipIf(noConnectionToCut !== undefined)(skipped('an unreachable database', noConnectionToCut), () => {
    let stack: Stack;
    let proxy: TcpProxy;
    let replica: RunningSubgraph<OrdersDb>;
    let gateway: RunningServer;
    beforeAll(async () => {
      stack = await startStack(backend);
      // A second orders replica reaching the orders database through a proxy this test cuts, and a
      // gateway that routes orders to it: the shared PostgreSQL itself is never stopped.
      const ordersUrl = new URL(stack.databaseUrls!.orders);
      proxy = await startTcpProxy({ host: ordersUrl.hostname, port: Number(ordersUrl.port || 5432) });
      replica = await startSubgraph(orders, subgraphConfig('orders', { databaseUrl: proxy.via(stack.databaseUrls!.orders), seed: false, subgraphUrls: stack.urls }));
      gateway = await startGateway(gatewayConfig({ ...stack.urls, orders: replica.url }));
    });
    afterAll(async () => {
      proxy?.restore();
      await gateway?.close();
      await replica?.close();
      await proxy?.close();
      await stack?.stop();
    });

    it('is answered SERVICE_UNAVAILABLE with retryAfterSeconds (HTTP 503 when nothing could be answered), writes nothing twice, and is served again once it is back', async () => {
      const token = await stack.login(alice.email, alice.password);
      const p = await newProduct(stack, { stock: 5 });
      const place = () => graphql(gateway.url, operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 1 }], idempotencyKey: 'outage-key' } }, token);
      const mine = () => graphql(gateway.url, '{ me { name orders(first: 1) { totalCount } } }', {}, token);
      const unavailable = { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 };
      expect((await mine()).status).toBe(200);
      /** graphql_errors_total of orders (one registry per service name in this process), by code. */
      const errorsCounted = async (code: string) => {
        const line = (await (await fetch(replica.url.replace('/graphql', '/metrics'))).text()).split('\n').find((l) => l.startsWith('graphql_errors_total{') && l.includes(`code="${code}"`));
        return Number(line?.split(' ')[1] ?? 0);
      };
      const internalBefore = await errorsCounted('INTERNAL_SERVER_ERROR');
      const unavailableBefore = await errorsCounted('SERVICE_UNAVAILABLE');

      proxy.cut();
      const placed = await place();
      // The subgraph's 503 is the whole answer's, with its Retry-After.
      expect({ status: placed.status, retryAfter: placed.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '2' });
      expect(placed.errors).toEqual([
        expect.objectContaining({ message: 'the database of this service cannot be reached; try again shortly', extensions: { ...unavailable, serviceName: 'orders' } }),
      ]);
      // At the subgraph itself: HTTP 503 with Retry-After, and /ready says the same.
      const direct = await graphql(replica.url, '{ order(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, token);
      expect({ status: direct.status, retryAfter: direct.headers.get('retry-after'), codes: direct.errors?.map((e) => e.extensions) }).toEqual({ status: 503, retryAfter: '2', codes: [unavailable] });
      expect((await fetch(replica.url.replace('/graphql', '/ready'))).status).toBe(503);
      // A partial answer keeps its data and HTTP 200: only the orders field is unavailable.
      const partial = await mine();
      expect(partial.status).toBe(200);
      expect(partial.data!.me.name).toBe(alice.name);
      expect(partial.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
      // Counted as what the clients were answered, not as internal errors (no alert on internal errors fires).
      expect(await errorsCounted('INTERNAL_SERVER_ERROR')).toBe(internalBefore);
      expect(await errorsCounted('SERVICE_UNAVAILABLE')).toBeGreaterThanOrEqual(unavailableBefore + 3);

      proxy.restore();
      await waitFor('the replica to be ready again', async () => (await fetch(replica.url.replace('/graphql', '/ready'))).status === 200);
      const again = await place();
      expect(again.data!.placeOrder).toMatchObject({ status: 'CONFIRMED' });
      // Nothing of the refused attempt was written: one order for the key, one unit taken.
      expect(await stack.orders!.db.client.order.count({ where: { idempotencyKey: 'outage-key' } })).toBe(1);
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(4);
    });

    it('settles a placement the outage cut in the middle within seconds of the database coming back, not after recovery\'s minimum age', async () => {
      const token = await stack.login(alice.email, alice.password);
      const p = await newProduct(stack, { stock: 5 });
      const place = () => graphql(gateway.url, operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 2 }], idempotencyKey: 'cut-key' } }, token);
      // Catalog's products held: the placement waits in its reservation, its order written PENDING.
      let unlock!: () => void;
      const gate = new Promise<void>((resolve) => (unlock = resolve));
      let locked = false;
      const hold = stack.catalog.db.client.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE "Product" IN ACCESS EXCLUSIVE MODE');
          locked = true;
          await gate;
        },
        { timeout: 30_000 },
      );
      await waitFor('the lock on the Product table', () => locked);
      const placing = place();
      const pending = await waitFor('the order written PENDING', () => stack.orders!.db.client.order.findFirst({ where: { idempotencyKey: 'cut-key' } }));
      // The orders database goes away; then catalog answers the reservation, which cannot be confirmed now.
      proxy.cut();
      unlock();
      await hold;
      const cut = await placing;
      expect(cut.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(await stack.orders!.db.client.order.findUniqueOrThrow({ where: { id: pending.id } })).toMatchObject({ status: 'PENDING' });

      const back = Date.now();
      proxy.restore();
      // The replica's recovery (minimum age 30 s, every 60 s) settles it within seconds: it was given up here.
      await waitFor('the cut order to be confirmed', async () => (await stack.orders!.db.client.order.findUniqueOrThrow({ where: { id: pending.id } })).status === 'CONFIRMED', { timeoutMs: 10_000 });
      expect(Date.now() - back).toBeLessThan(10_000);
      const again = await place();
      expect(again.data!.placeOrder).toMatchObject({ id: pending.id, status: 'CONFIRMED', items: [{ quantity: 2 }] });
      expect(await stack.catalog.db.client.stockReservation.findUniqueOrThrow({ where: { orderId: pending.id } })).toMatchObject({ status: 'COMMITTED' });
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: p.id } })).stock).toBe(3);
    });
  });

  describe.skipIf(noRedis !== undefined)(skipped('an order event across a carrier outage and a crash', noRedis), () => {
    let stack: Stack;
    let child: ChildProcess | undefined;
    let dataDir: string;
    let ordersDb: Awaited<ReturnType<typeof createPostgresDatabases>> | undefined;
    let redisProxy: TcpProxy;
    let ordersEnv: Record<string, string>;
    let subscriber: EventChannel;
    const keyPrefix = `test-outbox-${randomUUID()}:`;

    beforeAll(async () => {
      const port = await freePort();
      stack = await startStack(backend, { externalOrders: { url: `http://localhost:${port}/graphql` } });
      dataDir = await mkdtemp(path.join(tmpdir(), 'orders-outbox-'));
      ordersDb = backend === 'postgres' ? await createPostgresDatabases() : undefined;
      const redis = new URL(TEST_REDIS_URL);
      // Orders reaches Redis through a proxy this test cuts; the subscriber below reaches it directly.
      redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
      ordersEnv = {
        ORDERS_PORT: String(port),
        CATALOG_URL: stack.catalog.url,
        DATA_DIR: dataDir,
        REDIS_URL: redisProxy.via(TEST_REDIS_URL),
        REDIS_KEY_PREFIX: keyPrefix,
        ...(ordersDb ? { ORDERS_DATABASE_URL: ordersDb.urls.orders } : {}),
      };
      const log = createLogger('orders', 'silent');
      subscriber = new EventChannel(redisNotifications({ url: TEST_REDIS_URL, keyPrefix }, 'orders', log), log);
    });
    afterEach(() => {
      child?.kill('SIGKILL');
    });
    afterAll(async () => {
      await subscriber?.close();
      await redisProxy?.close();
      await stack?.stop();
      await ordersDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('is delivered once Redis is back, though the process that committed it was killed before it could publish', async () => {
      const token = await stack.login(alice.email, alice.password);
      const p = await newProduct(stack, { stock: 5 });
      const events = await subscriber.subscribe(ORDER_CHANGED, () => true);
      const received: string[] = [];
      void (async () => {
        for await (const id of events) received.push(id);
      })();

      child = await startOrders(ordersEnv);
      redisProxy.cut();
      // The placement does not wait for Redis: the event waits in the outbox, committed with the order.
      const placed = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 1 }] } }, token);
      expect(placed.data!.placeOrder).toMatchObject({ status: 'CONFIRMED' });
      const orderId = placed.data!.placeOrder.id as string;
      await new Promise((r) => setTimeout(r, 1_500)); // more than one look of the outbox (every second)
      expect(received).not.toContain(orderId);

      // Killed between the commit and any publish; Redis comes back; a new process publishes what the first one left.
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      redisProxy.restore();
      child = await startOrders(ordersEnv);
      await waitFor('the order event from the outbox', () => received.includes(orderId), { timeoutMs: 15_000 });
      expect(received.filter((id) => id === orderId)).toEqual([orderId]);
      await events.return?.();
    });
  });

  // The subscriber reads the outbox of a database shared with the stack: PostgreSQL.
  describe.skipIf(noRedis !== undefined || backend !== 'postgres')(skipped('a replica whose Redis connection dropped', noRedis ?? (backend !== 'postgres' ? 'needs a shared PostgreSQL database' : undefined)), () => {
    let stack: Stack;
    let proxy: TcpProxy;
    let pool: pg.Pool;
    let subscriber: EventChannel;
    const keyPrefix = `test-replay-${randomUUID()}:`;
    beforeAll(async () => {
      stack = await startStack(backend, { orders: { redis: { url: TEST_REDIS_URL, keyPrefix } } });
      const redis = new URL(TEST_REDIS_URL);
      proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
      pool = new pg.Pool({ connectionString: stack.databaseUrls!.orders });
      const sql = { query: async <R,>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as R[] };
      const log = createLogger('orders', 'silent');
      // Another orders replica's event channel, its Redis connection through a proxy this test cuts.
      subscriber = new EventChannel(redisNotifications({ url: proxy.via(TEST_REDIS_URL), keyPrefix }, 'orders', log), log, outboxHistory(sql));
    });
    afterAll(async () => {
      await subscriber?.close();
      await proxy?.close();
      await pool?.end();
      await stack?.stop();
    });

    it('delivers, once it is back, the events published while it was away, and each once', async () => {
      const token = await stack.login(alice.email, alice.password);
      const p = await newProduct(stack, { stock: 5 });
      const events = await subscriber.subscribe(ORDER_CHANGED, () => true);
      const received: string[] = [];
      void (async () => {
        for await (const id of events) received.push(id);
      })();
      const place = async () => (await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 1 }] } }, token)).data!.placeOrder.id as string;
      const before = await place();
      await waitFor('the first event', () => received.includes(before));

      proxy.cut();
      const during = await place(); // published to Redis while this replica is not listening
      await new Promise((r) => setTimeout(r, 500));
      expect(received).not.toContain(during);
      proxy.restore();
      await waitFor('the missed event, replayed from the outbox', () => received.includes(during), { timeoutMs: 15_000 });
      const after = await place();
      await waitFor('the next event', () => received.includes(after));
      expect(received.filter((id) => id === before || id === during)).toEqual([before, during]); // the replay repeats none already delivered
      await events.return?.();
    });
  });

  describe('an unreachable catalog', () => {
    let stack: Stack;
    beforeAll(async () => {
      const deadPort = await freePort();
      stack = await startStack(backend, {
        orders: { subgraphUrls: { users: '', orders: '', reviews: '', catalog: `http://localhost:${deadPort}/graphql` } },
      });
    });
    afterAll(() => stack?.stop());

    it('fails the order with a clear error and holds no stock', async () => {
      const token = await stack.login(alice.email, alice.password);
      const product = (await stack.request(operation('ProductBySku'), { sku: 'KIT-00008' })).data!.productBySku;
      const before = await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: product.id } });
      const res = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity: 1 }], idempotencyKey: 'k1' } }, token);
      expect(res.errors?.[0]).toMatchObject({ message: 'the catalog service is unavailable, try again later', extensions: { code: 'SERVICE_UNAVAILABLE' } });
      expect((await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: product.id } })).stock).toBe(before.stock);
      expect(await stack.catalog.db.client.stockReservation.count({ where: { status: 'RESERVED' } })).toBe(0);
      const failed = await stack.orders!.db.client.order.findMany({ where: { status: { in: ['PENDING', 'FAILED'] } } });
      expect(failed.map((o) => o.status)).toEqual(['FAILED']);
      // Catalog could not be asked to release: the key stays with the failed order until it can,
      // and a retry with it is told so instead of placing a second order.
      expect(failed[0]!).toMatchObject({ idempotencyKey: 'k1', stockReleasedAt: null });
      const retry = await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity: 1 }], idempotencyKey: 'k1' } }, token);
      expect(retry.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 } });
      expect(await stack.orders!.db.client.order.count({ where: { status: { in: ['PENDING', 'FAILED'] } } })).toBe(1);
      const cancel = await stack.request(operation('CancelOrder'), { id: failed[0]!.id }, token);
      expect(cancel.errors?.[0]).toMatchObject({ message: 'a FAILED order cannot be cancelled', extensions: { code: 'BAD_USER_INPUT' } });
    });
  });

  describe('what could not be finished at once', () => {
    let stack: Stack;
    const logs: Record<string, unknown>[] = [];
    beforeAll(async () => {
      stack = await startStack(backend, { orders: { recovery: { minAgeSeconds: 2, intervalMs: 200 } }, logs });
    });
    afterAll(() => stack?.stop());

    const stocked = (stock: number, price?: number) => newProduct(stack, { stock, price, weightGrams: 100 });
    /** Another replica's order recovery on the same database (passes run by `runOnce`), logging to `logs`. */
    const recoveryReplica = () => {
      const log = createLogger('orders', 'debug', { write: (line: string) => void logs.push(JSON.parse(line)) });
      const catalogClient = catalogStock(stack.urls.catalog, new Tokens(testTokenKeys('orders')));
      return orderRecovery(stack.orders!.db.client, catalogClient, orderPlacement(stack.orders!.db.client, catalogClient, log), log, { minAgeSeconds: 2, intervalMs: 200 });
    };
    const stockOf = async (productId: string) => (await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: productId } })).stock;
    /** The orders that reserved (or tried to reserve) this product, as catalog recorded them. */
    const reservationsOf = (productId: string) => stack.catalog.db.client.stockReservation.findMany({ where: { lines: { some: { productId } } } });
    /**
     * What a placement leaves in catalog when it stops before confirming: `quantity` units of the
     * product reserved (and taken from its stock) for a new order id, which it returns.
     */
    async function heldReservation(productId: string, quantity: number, priceAmount: number): Promise<string> {
      const orderId = randomUUID();
      const catalogDb = stack.catalog.db.client;
      await catalogDb.$transaction([
        catalogDb.stockReservation.create({ data: { orderId, lines: { create: [{ productId, quantity, priceAmount, currency: 'USD' }] } } }),
        catalogDb.product.update({ where: { id: productId }, data: { stock: { decrement: quantity } } }),
      ]);
      return orderId;
    }
    /** Runs `action` while `table` of that database refuses rows of this product (a CHECK constraint): a refusal retrying cannot fix. */
    async function refusingProduct<T>(db: { $executeRawUnsafe(sql: string): Promise<number> }, table: string, productId: string, action: () => Promise<T>): Promise<T> {
      await db.$executeRawUnsafe(`ALTER TABLE "${table}" ADD CONSTRAINT "test_refuses_product" CHECK ("productId" <> '${productId}')`);
      try {
        return await action();
      } finally {
        await db.$executeRawUnsafe(`ALTER TABLE "${table}" DROP CONSTRAINT "test_refuses_product"`);
      }
    }

    it('gets a cancelled order its stock back from recovery', async () => {
      const token = await stack.login(alice.email, alice.password);
      const product = (await stack.request(operation('ProductBySku'), { sku: 'KIT-00008' })).data!.productBySku;
      const stock = async () => (await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id: product.id } })).stock;
      const before = await stock();
      const order = (await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity: 3 }] } }, token)).data!.placeOrder;
      expect(await stock()).toBe(before - 3);
      // What a cancel leaves when catalog cannot be reached: cancelled, stock not yet returned.
      await stack.orders!.db.client.order.update({ where: { id: order.id }, data: { status: 'CANCELLED' } });
      // Recovery's last step records the release; by then the stock must be back.
      await waitFor('the order\'s stock to be released', async () => (await stack.orders!.db.client.order.findUniqueOrThrow({ where: { id: order.id } })).stockReleasedAt);
      expect(await stock()).toBe(before);
      expect(await stack.catalog.db.client.stockReservation.findUniqueOrThrow({ where: { orderId: order.id } })).toMatchObject({ status: 'RELEASED' });
    });

    it('fails an order whose reservation got no definite answer, and makes sure no stock stays held for it', async () => {
      const token = await stack.login(alice.email, alice.password);
      const aliceId = (await stack.request('{ me { id } }', {}, token)).data!.me.id as string;
      const p = await stocked(5);
      const place = () => stack.request(operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 2 }], idempotencyKey: `undecided-${backend}` } }, token);
      // Catalog's database refuses the reservation: catalog answers with an internal error, which
      // tells orders nothing about what catalog did (like a timeout).
      const catalogDb = stack.catalog.db.client;
      const res = await refusingProduct(catalogDb, 'ReservationLine', p.id, place);
      expect(res.errors?.[0]).toMatchObject({ message: 'the order could not be completed; try again', extensions: { code: 'SERVICE_UNAVAILABLE' } });
      const failed = await stack.orders!.db.client.order.findFirstOrThrow({ where: { status: 'FAILED', userId: aliceId }, orderBy: { createdAt: 'desc' } });
      expect(failed.idempotencyKey).toBeNull();
      // Before answering, orders released: catalog holds a RELEASED record and no stock for the order.
      expect(await catalogDb.stockReservation.findUniqueOrThrow({ where: { orderId: failed.id }, include: { lines: true } })).toMatchObject({ status: 'RELEASED', lines: [] });
      expect(await stockOf(p.id)).toBe(5);
      // A reservation for it that arrives late takes nothing.
      const late = await graphql(
        stack.catalog.url,
        'mutation($orderId: ID!, $items: [ReservationItemInput!]!) { reserveStock(orderId: $orderId, items: $items) { status } }',
        { orderId: failed.id, items: [{ productId: p.id, quantity: 2 }] },
        await serviceToken(),
      );
      expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(await stockOf(p.id)).toBe(5);
      // Sending it again with the same key places it anew.
      const again = await place();
      expect(again.data!.placeOrder).toMatchObject({ status: 'CONFIRMED', items: [{ quantity: 2 }] });
      expect(again.data!.placeOrder.id).not.toBe(failed.id);
      expect(await stockOf(p.id)).toBe(3);
    });

    it('gives an order up at once, with its stock returned, when confirming it can never succeed', async () => {
      const token = await stack.login(alice.email, alice.password);
      const p = await stocked(5);
      const place = () => stack.request(operation('PlaceOrder'), { input: { items: [{ productId: p.id, quantity: 2 }], idempotencyKey: `unconfirmable-${backend}` } }, token);
      // The orders database refuses the order's items: retrying the confirmation cannot help.
      const ordersDb = stack.orders!.db.client;
      const res = await refusingProduct(ordersDb, 'OrderItem', p.id, place);
      expect(res.errors?.[0]).toMatchObject({
        message: 'the order could not be completed; nothing was charged and no stock is held',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      const [reservation] = await reservationsOf(p.id);
      expect(reservation!.status).toBe('RELEASED');
      expect(await ordersDb.order.findUniqueOrThrow({ where: { id: reservation!.orderId } })).toMatchObject({ status: 'FAILED', idempotencyKey: null });
      expect(await stockOf(p.id)).toBe(5);
      const again = await place();
      expect(again.data!.placeOrder).toMatchObject({ status: 'CONFIRMED', total: { amount: 2500 } });
      expect(await stockOf(p.id)).toBe(3);
    });

    it('gives up, with one log line, a pending order that recovery can never confirm', async () => {
      const token = await stack.login(alice.email, alice.password);
      const aliceId = (await stack.request('{ me { id } }', {}, token)).data!.me.id as string;
      const p = await stocked(30, 100_000_000);
      // What an order of 22 units at the highest price left behind before totals were checked up
      // front: the order PENDING (its total overflowed), 22 units reserved in catalog.
      const orderId = await heldReservation(p.id, 22, 100_000_000);
      const catalogDb = stack.catalog.db.client;
      const ordersDb = stack.orders!.db.client;
      await ordersDb.order.create({
        data: { id: orderId, userId: aliceId, status: 'PENDING', totalAmount: 0, currency: 'USD', idempotencyKey: `overflowed-${backend}`, createdAt: new Date(Date.now() - 60_000) },
      });

      const linesAbout = () => logs.filter((l) => l.orderId === orderId);
      await waitFor('a log line about the order', () => linesAbout().length > 0);
      // Several more passes, run here rather than waited for: none of them touches the order again.
      const replica = recoveryReplica();
      for (let pass = 0; pass < 3; pass++) await replica.runOnce();
      expect(linesAbout()).toEqual([expect.objectContaining({ level: 50, msg: 'recovery gave the order up: it cannot be confirmed; marked FAILED, its stock returned' })]);
      expect(await ordersDb.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({ status: 'FAILED', idempotencyKey: null });
      expect(await catalogDb.stockReservation.findUniqueOrThrow({ where: { orderId } })).toMatchObject({ status: 'RELEASED' });
      expect(await stockOf(p.id)).toBe(30);
    });

    // Replicas in processes of their own need a database they can share: PostgreSQL.
    const noSharedDatabase = backend !== 'postgres' ? 'processes share a database only on PostgreSQL' : undefined;
    it.skipIf(noSharedDatabase !== undefined)(skipped('two orders processes whose recovery passes meet on the same stuck orders move their stock once', noSharedDatabase), async () => {
      const token = await stack.login(alice.email, alice.password);
      const aliceId = (await stack.request('{ me { id } }', {}, token)).data!.me.id as string;
      const p = await stocked(40);
      const env = { CATALOG_URL: stack.urls.catalog, ORDERS_DATABASE_URL: stack.databaseUrls!.orders, RECOVERY_MIN_AGE_SECONDS: '0', RECOVERY_INTERVAL_MS: '100' };
      // What crashes between reservation and confirmation leave: 3 units reserved per order, each order
      // PENDING. Made before the two processes start: a reservation whose order row does not exist
      // yet is an orphan that recovery rightly releases.
      const orderIds: string[] = [];
      for (let i = 0; i < 8; i++) orderIds.push(await heldReservation(p.id, 3, 1250));
      expect(await stockOf(p.id)).toBe(40 - 8 * 3);
      const ordersDb = stack.orders!.db.client;
      await ordersDb.order.createMany({
        data: orderIds.map((id) => ({ id, userId: aliceId, status: 'PENDING' as const, totalAmount: 0, currency: 'USD', createdAt: new Date(Date.now() - 60_000) })),
      });
      const replicas = await Promise.all([1, 2].map(async () => startOrders({ ...env, ORDERS_PORT: String(await freePort()) })));
      try {
        await waitFor('both processes to confirm the orders', async () => (await ordersDb.order.count({ where: { id: { in: orderIds }, status: 'CONFIRMED' } })) === orderIds.length);
        await new Promise((r) => setTimeout(r, 500)); // a few more passes of each
        const settled = await ordersDb.order.findMany({ where: { id: { in: orderIds } }, include: { items: true } });
        for (const order of settled) expect(order).toMatchObject({ status: 'CONFIRMED', totalAmount: 3750, items: [{ quantity: 3 }] });
        const reservations = await stack.catalog.db.client.stockReservation.findMany({ where: { orderId: { in: orderIds } } });
        expect(reservations.map((r) => r.status)).toEqual(orderIds.map(() => 'COMMITTED'));
        expect(await stockOf(p.id)).toBe(40 - 8 * 3);
      } finally {
        for (const child of replicas) child.kill('SIGKILL');
      }
    });

    it("settles a stuck order once when several replicas' recovery passes meet on it: one log line, one outcome", async () => {
      const token = await stack.login(alice.email, alice.password);
      const aliceId = (await stack.request('{ me { id } }', {}, token)).data!.me.id as string;
      const p = await stocked(10);
      // What a crash between reservation and confirmation leaves: 3 units reserved, the order PENDING.
      const orderId = await heldReservation(p.id, 3, 1250);
      const catalogDb = stack.catalog.db.client;
      const ordersDb = stack.orders!.db.client;
      // Two more replicas' recovery on the same database, beside the stack's own (every 200 ms).
      const replicas = [1, 2].map(() => recoveryReplica());
      const recovered = async () => (await ordersMetrics().outcomes.get()).values.find((v) => v.labels.outcome === 'recovered')?.value ?? 0;
      const before = await recovered();
      await ordersDb.order.create({
        data: { id: orderId, userId: aliceId, status: 'PENDING', totalAmount: 0, currency: 'USD', createdAt: new Date(Date.now() - 60_000) },
      });
      await Promise.all(replicas.map((r) => r.runOnce()));
      await waitFor('the recovery to confirm the order', async () => (await ordersDb.order.findUniqueOrThrow({ where: { id: orderId } })).status === 'CONFIRMED');
      // And several passes more, as their next ones would run (run here rather than waited for).
      for (let pass = 0; pass < 3; pass++) await Promise.all(replicas.map((r) => r.runOnce()));

      expect(logs.filter((l) => l.orderId === orderId)).toEqual([expect.objectContaining({ msg: 'recovered order: CONFIRMED' })]);
      expect((await recovered()) - before).toBe(1);
      expect(await ordersDb.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true } })).toMatchObject({ status: 'CONFIRMED', totalAmount: 3750, items: [{ quantity: 3 }] });
      expect(await catalogDb.stockReservation.findUniqueOrThrow({ where: { orderId } })).toMatchObject({ status: 'COMMITTED' });
      expect(await stockOf(p.id)).toBe(7);
    });
  });

  describe('a subgraph that is down', () => {
    let stack: Stack;
    const logs: Record<string, unknown>[] = [];
    /** A development and a production gateway that wait 2 s (not 5) for a subgraph. */
    let impatient: { mode: string; gateway: RunningServer }[] = [];
    beforeAll(async () => {
      stack = await startStack(backend, { logs });
      impatient = await Promise.all(
        [false, true].map(async (production) => ({
          mode: production ? 'production' : 'development',
          gateway: await startGateway(gatewayConfig(stack.urls, { production, subgraphTimeoutMs: 2_000 })),
        })),
      );
    });
    afterAll(async () => {
      for (const { gateway } of impatient) await gateway.close();
      await stack?.stop();
    });

    /** ProductList as a client sends it, and the raw answer. */
    async function productList(url: string) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: operation('ProductList'), variables: { first: 3 } }) });
      const text = await response.text();
      return { status: response.status, text, ...(JSON.parse(text) as { data: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
    }

    /** Holds the reviews table (and with it every reviews request) until the returned function is called. */
    async function holdReviews(): Promise<() => Promise<void>> {
      let locked = false;
      let unlock!: () => void;
      const gate = new Promise<void>((resolve) => (unlock = resolve));
      const hold = stack.reviews.db.client.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe('LOCK TABLE "Review" IN ACCESS EXCLUSIVE MODE');
          locked = true;
          await gate;
        },
        { timeout: 30_000 },
      );
      await waitFor('the lock on the Review table', () => locked);
      return async () => {
        unlock();
        await hold;
      };
    }

    it('costs only its own fields when it answers too late: SERVICE_UNAVAILABLE, naming the service and nothing else', async () => {
      const release = await holdReviews();
      try {
        const answers = await Promise.all(impatient.map(async ({ mode, gateway }) => ({ mode, res: await productList(gateway.url) })));
        for (const { mode, res } of answers) {
          expect(res.status, mode).toBe(200);
          expect(res.data.products.edges).toHaveLength(3);
          expect(res.data.products.edges[0].node).toMatchObject({ name: expect.any(String), reviewCount: null, averageRating: null });
          expect(res.errors, mode).toEqual([
            { message: 'the reviews service did not answer in time, try again later', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'reviews' } },
          ]);
          expect(leaksIn(res.text, stack.urls), mode).toEqual([]);
        }
      } finally {
        await release();
      }
      // It answers again once it can.
      expect((await productList(stack.gatewayUrl)).errors).toBeUndefined();
    });

    it('finishes the requests in flight when it shuts down', async () => {
      const query = '{ _entities(representations: [{ __typename: "Product", id: "00000000-0000-4000-8000-000000000000" }]) { ... on Product { reviewCount } } }';
      // Hold the reviews table until the shutdown has begun, so the requests below wait on the database.
      const release = await holdReviews();
      const started = () => logs.filter((l) => l.service === 'reviews' && l.msg === 'operation started').length;
      const startedBefore = started();
      const inFlight = Array.from({ length: 20 }, () => graphql(stack.reviews.url, query));
      // All 20 are being executed (and wait on the database) before the shutdown starts.
      await waitFor('all 20 requests to be executing', () => started() === startedBefore + 20);
      const closed = stack.reviews.close();
      // The shutdown has begun once the server takes no new connection.
      await waitFor('reviews to refuse new connections', () => refusesConnections(stack.reviews.url));
      const released = release();
      const answers = await Promise.all(inFlight);
      await Promise.all([closed, released]);
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(answers.every((a) => a.data?._entities?.[0]?.reviewCount === 0)).toBe(true);
      await expect(graphql(stack.reviews.url, query)).rejects.toThrow();
    });

    it('costs only its own fields: the rest of the answer arrives with SERVICE_UNAVAILABLE, naming the service and nothing else', async () => {
      await stack.reviews.close(); // already closed by the test above; closing is idempotent
      for (const url of [stack.gatewayUrl, ...impatient.map((i) => i.gateway.url)]) {
        const res = await productList(url);
        expect(res.status).toBe(200);
        expect(res.data.products.edges).toHaveLength(3);
        expect(res.data.products.edges[0].node).toMatchObject({ name: expect.any(String), averageRating: null, reviewCount: null });
        expect(res.errors).toEqual([
          { message: 'the reviews service is unavailable, try again later', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'reviews' } },
        ]);
        expect(leaksIn(res.text, stack.urls)).toEqual([]);
      }
      const token = await stack.login(admin.email, admin.password);
      const me = await stack.request('{ me { name reviews { id } } }', {}, token);
      expect(me.data!.me).toEqual({ name: 'Ada Admin', reviews: null });
    });
  });
});
