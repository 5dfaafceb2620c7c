// `npm run chaos`: customers place, resend, cancel and read orders through the gateway while the
// services are killed (SIGKILL) and restarted, PostgreSQL is stopped for 5 s and started again, and
// Redis (events, login throttling) is killed and restarted; then the databases and every answer
// are checked: stock conserved, nothing pending or held, one order per idempotency key, every
// answer true in the databases, every order event delivered (to an orders replica's subscribers,
// and to an administrator's SSE stream through the gateway, open for the whole run and opened again
// when the gateway itself is killed), no internal error. Everything runs
// on loopback: its own PostgreSQL cluster (initdb in a temporary folder) and its own redis-server
// on free ports, the services as processes of their own; it stops only what it started, and exits
// non-zero when a check fails. CHAOS_SECONDS (default 60) is how long the customers shop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient as createSseClient } from 'graphql-sse';
import pg from 'pg';
import { createLogger } from '../lib/logger.js';
import { ROOT } from '../lib/paths.js';
import { databaseUrlVar, portVar, SERVICE_NAMES, urlVar, type ServiceName } from '../lib/services.js';
import { EventChannel, redisNotifications } from '../lib/subgraph/events.js';
import { outboxHistory, type RawSql } from '../lib/subgraph/outbox.js';
import { SERVICE_ENTRIES, serviceBundles } from '../tools/service-build.js';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const CUSTOMERS = Number(process.env.CHAOS_CUSTOMERS ?? 20);
const PRODUCTS = 5;
const STOCK = 40;
const ORDER_CHANGED = 'orders_order_changed';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

// ---- its own PostgreSQL cluster and Redis ----
const work = mkdtempSync(path.join(tmpdir(), 'chaos-'));
chmodSync(work, 0o777);
const pgData = path.join(work, 'pg');
const pgPort = await freePort();
const redisPort = await freePort();
/** initdb and pg_ctl refuse root: run them as `postgres` then. */
const asPostgres = (cmd: string, args: string[]) => {
  const [bin, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(bin, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
};
const pgCtl = (action: 'start' | 'stop') =>
  asPostgres('pg_ctl', action === 'start'
    ? ['-D', pgData, '-w', '-l', path.join(work, 'pg.log'), '-o', `-p ${pgPort} -k ${work} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']
    : ['-D', pgData, '-m', 'immediate', '-w', 'stop']);
asPostgres('initdb', ['-D', pgData, '-A', 'trust', '-U', 'postgres', '--no-sync']);
pgCtl('start');
const adminUrl = `postgresql://postgres@127.0.0.1:${pgPort}/postgres`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
for (const name of SERVICE_NAMES) await admin.query(`CREATE DATABASE ${name}`);
await admin.end();
const dbUrl = (name: ServiceName) => `postgresql://postgres@127.0.0.1:${pgPort}/${name}`;

let redis: ChildProcess | undefined;
const startRedis = async () => {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await reachable(redisPort)); i++) await sleep(100);
};
const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
await startRedis();
const redisUrl = `redis://127.0.0.1:${redisPort}`;

// ---- the services, each a process of its own ----
await serviceBundles(SERVICE_ENTRIES); // built once here, before anything is timed
const ports = Object.fromEntries(await Promise.all([...SERVICE_NAMES, 'gateway' as const].map(async (n) => [n, await freePort()]))) as Record<ServiceName | 'gateway', number>;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'development',
  // Errors are expected here by the hundred (that is the point); LOG_LEVEL=error shows them.
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'fatal',
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: 'chaos:',
  SEED: 'true',
  SEED_SCALE: '0.05',
  RECOVERY_MIN_AGE_SECONDS: '5',
  RECOVERY_INTERVAL_MS: '2000',
  REGISTRATIONS_PER_ADDRESS: '10000',
  LOGIN_FAILURES_PER_ADDRESS: '10000',
  GATEWAY_PORT: String(ports.gateway),
  RESPONSE_CACHE: 'false',
};
for (const name of SERVICE_NAMES) {
  env[portVar(name)] = String(ports[name]);
  env[databaseUrlVar(name)] = dbUrl(name);
  env[urlVar(name)] = `http://127.0.0.1:${ports[name]}/graphql`;
}
const children = new Map<string, ChildProcess>();
async function startService(name: ServiceName | 'gateway'): Promise<void> {
  const entry = name === 'gateway' ? 'gateway/index.ts' : `subgraphs/${name}/index.ts`;
  // Asked again at each (re)start: a build made meanwhile (a source edited during the run) removes
  // the one the run started with, and a restart from it would find chunks missing.
  const bundles = await serviceBundles(SERVICE_ENTRIES);
  const child = spawn(process.execPath, ['--enable-source-maps', bundles[entry]!], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.set(name, child);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'started' && resolve());
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before it was serving`)));
  });
}
const kill = async (name: ServiceName | 'gateway') => {
  const child = children.get(name)!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};
let exitCode = 1;
try {
  for (const name of SERVICE_NAMES) await startService(name);
  await startService('gateway');
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}/graphql`;
  log(`stack on PostgreSQL :${pgPort} and Redis :${redisPort}; gateway ${gatewayUrl}`);

  // ---- what clients see ----
  type Answer = { kind: 'place' | 'cancel' | 'read' | 'login'; key?: string; orderId?: string; status?: string; code?: string };
  const answers: Answer[] = [];
  // The answers' shapes are those of the operations below; the checks read a few fields of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Data = any;
  async function gql(query: string, variables: Record<string, unknown>, token?: string): Promise<{ data?: Data; code?: string }> {
    try {
      const res = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await res.json()) as { data?: Data; errors?: { extensions?: { code?: string } }[] };
      return { data: body.data, code: body.errors?.[0]?.extensions?.code ?? (res.ok || res.status === 503 ? undefined : `HTTP_${res.status}`) };
    } catch {
      return { code: 'NO_ANSWER' }; // the gateway was down: a client retries
    }
  }
  const login = async (email: string, password: string) => (await gql('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password })).data?.login?.token as string;
  const adminToken = await login('admin@example.com', 'demo-admin-1');
  const category = (await gql('{ categories { id } }', {}, adminToken)).data.categories[0].id as string;
  const products: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const res = await gql('mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }', {
      input: { sku: `CHAOS-${i}-${randomUUID().slice(0, 8)}`, name: `Chaos product ${i}`, price: 1000 + i, stock: STOCK, weightGrams: 500, categoryId: category },
    }, adminToken);
    products.push(res.data.createProduct.id);
  }
  const tokens: string[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const res = await gql('mutation($input: RegisterInput!) { register(input: $input) { token } }', { input: { email: `chaos-${i}-${randomUUID().slice(0, 6)}@example.com`, password: 'a-chaos-password', name: `Chaos ${i}` } });
    tokens.push(res.data.register.token);
  }

  // Every order event, as an orders replica's subscribers see it: from Redis, and replayed from the
  // orders outbox after its Redis connection came back.
  const eventLog = createLogger('orders', 'silent');
  const outboxPool = new pg.Pool({ connectionString: dbUrl('orders'), max: 2 });
  outboxPool.on('error', () => {}); // PostgreSQL's stop ends idle connections; the next query opens a new one
  const sql: RawSql = { query: async <R,>(text: string, params?: unknown[]) => (await outboxPool.query(text, params)).rows as R[] };
  const events = new EventChannel(redisNotifications({ url: redisUrl, keyPrefix: 'chaos:' }, 'orders', eventLog), eventLog, outboxHistory(sql));
  const seen = new Set<string>();
  const stream = await events.subscribe(ORDER_CHANGED, () => true);
  void (async () => {
    for await (const id of stream) seen.add(id);
  })();

  // An administrator's stream of every order's updates through the gateway (SSE), as a back office
  // keeps one open: opened again when it breaks (the gateway's own kill ends it). Each opening
  // counts from its first event (then it certainly listens) to its end.
  type Opening = { from?: number; to?: number };
  const openings: Opening[] = [];
  const onStream = new Map<string, number>();
  const streamErrors: string[] = [];
  let stopStream: (() => void) | undefined;
  let streaming = true;
  const streamDone = (async () => {
    while (streaming) {
      const opening: Opening = {};
      openings.push(opening);
      const client = createSseClient({ url: gatewayUrl, headers: { authorization: `Bearer ${adminToken}` }, retryAttempts: 0 });
      await new Promise<void>((resolve) => {
        const unsubscribe = client.subscribe<{ myOrderUpdates: { id: string } }>(
          { query: 'subscription { myOrderUpdates { id status } }' },
          {
            next: (e) => {
              const id = e.data?.myOrderUpdates?.id;
              if (id) {
                opening.from ??= Date.now();
                onStream.set(id, (onStream.get(id) ?? 0) + 1);
              }
              for (const err of e.errors ?? []) streamErrors.push(String(err.extensions?.code ?? err.message));
            },
            error: () => resolve(),
            complete: () => resolve(),
          },
        );
        stopStream = () => {
          unsubscribe();
          resolve();
        };
      });
      opening.to = Date.now();
      client.dispose();
      if (streaming) await sleep(500);
    }
  })();

  const runStart = new Date();
  const PLACE = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }';
  const end = Date.now() + SECONDS * 1000;
  async function customer(token: string) {
    const mine: string[] = [];
    while (Date.now() < end) {
      const r = Math.random();
      if (r < 0.6) {
        const key = randomUUID();
        const input = { items: [{ productId: products[Math.floor(Math.random() * PRODUCTS)], quantity: 1 + Math.floor(Math.random() * 3) }], idempotencyKey: key };
        // Sent until it has an outcome (a client retrying with its key), and sometimes once more after.
        for (let attempt = 0; attempt < 30; attempt++) {
          const res = await gql(PLACE, { input }, token);
          answers.push({ kind: 'place', key, orderId: res.data?.placeOrder?.id, status: res.data?.placeOrder?.status, code: res.code });
          if (res.data?.placeOrder) mine.push(res.data.placeOrder.id);
          if (res.code !== 'SERVICE_UNAVAILABLE' && res.code !== 'NO_ANSWER' && !(res.data?.placeOrder && Math.random() < 0.2 && attempt === 0)) break;
          await sleep(500);
        }
      } else if (r < 0.75 && mine.length > 0) {
        const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
        const res = await gql('mutation($id: ID!) { cancelOrder(id: $id) { id status } }', { id }, token);
        answers.push({ kind: 'cancel', orderId: id, status: res.data?.cancelOrder?.status, code: res.code });
      } else {
        const res = await gql('{ me { orders(first: 5) { edges { node { id status } } } } }', {}, token);
        answers.push({ kind: 'read', code: res.code });
      }
      await sleep(100 + Math.random() * 200);
    }
  }

  // ---- the faults, spread over the run ----
  const at = (fraction: number) => sleep(SECONDS * 1000 * fraction);
  const faults = (async () => {
    const restart = async (name: ServiceName | 'gateway') => {
      log(`kill -9 ${name}`);
      await kill(name);
      await sleep(1_000);
      await startService(name);
      log(`${name} restarted`);
    };
    await at(0.15);
    await restart('orders');
    await at(0.1);
    await restart('catalog');
    await at(0.1);
    log('PostgreSQL stopped');
    pgCtl('stop');
    await sleep(5_000);
    pgCtl('start');
    log('PostgreSQL started');
    await at(0.1);
    log('kill -9 redis');
    const exited = new Promise((r) => redis!.once('exit', r));
    redis!.kill('SIGKILL');
    await exited;
    await sleep(2_000);
    await startRedis();
    log('redis restarted');
    await at(0.1);
    await restart('gateway');
  })();
  await Promise.all([faults, ...tokens.map((t) => customer(t))]);
  log(`customers done: ${answers.length} answers`);

  // ---- settle, then check ----
  const orders = new pg.Client({ connectionString: dbUrl('orders') });
  const catalog = new pg.Client({ connectionString: dbUrl('catalog') });
  await orders.connect();
  await catalog.connect();
  const count = async (c: pg.Client, sql: string) => Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
  const unsettled = async () =>
    (await count(orders, `SELECT count(*) AS n FROM "Order" WHERE status = 'PENDING' OR (status IN ('FAILED', 'CANCELLED') AND "stockReleasedAt" IS NULL)`)) +
    (await count(catalog, `SELECT count(*) AS n FROM "StockReservation" WHERE status = 'RESERVED'`)) +
    (await count(orders, 'SELECT count(*) AS n FROM "OutboxEvent" WHERE "publishedAt" IS NULL')) +
    (await count(catalog, 'SELECT count(*) AS n FROM "OutboxEvent" WHERE "publishedAt" IS NULL'));
  const settleBy = Date.now() + 90_000;
  while ((await unsettled()) > 0 && Date.now() < settleBy) await sleep(1_000);
  await sleep(1_000); // the last events on their way to the subscriber

  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  const orderRows = new Map((await orders.query<{ id: string; status: string }>('SELECT id, status FROM "Order"')).rows.map((o) => [o.id, o.status]));
  // The orders of this run (not the demo data seeded before it).
  const ofRun = new Set((await orders.query<{ id: string }>('SELECT id FROM "Order" WHERE "createdAt" >= $1', [runStart])).rows.map((o) => o.id));
  // Nothing pending or held.
  check((await count(orders, `SELECT count(*) AS n FROM "Order" WHERE status = 'PENDING'`)) === 0, 'orders left PENDING');
  check((await count(orders, `SELECT count(*) AS n FROM "Order" WHERE status IN ('FAILED', 'CANCELLED') AND "stockReleasedAt" IS NULL AND "idempotencyKey" IS NOT NULL`)) === 0, 'failed orders still holding their key');
  check((await count(catalog, `SELECT count(*) AS n FROM "StockReservation" WHERE status = 'RESERVED'`)) === 0, 'reservations still RESERVED');
  check((await count(orders, 'SELECT count(*) AS n FROM "OutboxEvent" WHERE "publishedAt" IS NULL')) + (await count(catalog, 'SELECT count(*) AS n FROM "OutboxEvent" WHERE "publishedAt" IS NULL')) === 0, 'events left in an outbox');
  // Stock conserved: what a product lacks is exactly what its confirmed orders hold.
  for (const id of products) {
    const { stock } = (await catalog.query<{ stock: number }>('SELECT stock FROM "Product" WHERE id = $1', [id])).rows[0]!;
    const held = await count(catalog, `SELECT coalesce(sum(l.quantity), 0) AS n FROM "ReservationLine" l JOIN "StockReservation" r USING ("orderId") WHERE l."productId" = '${id}' AND r.status <> 'RELEASED'`);
    const ordered = await count(orders, `SELECT coalesce(sum(i.quantity), 0) AS n FROM "OrderItem" i JOIN "Order" o ON o.id = i."orderId" WHERE i."productId" = '${id}' AND o.status = 'CONFIRMED'`);
    check(stock + held === STOCK, `product ${id}: stock ${stock} + held ${held} is not ${STOCK}`);
    check(held === ordered, `product ${id}: catalog holds ${held} units, confirmed orders ${ordered}`);
  }
  // One order per key; every answer true in the databases.
  const byKey = new Map<string, Set<string>>();
  for (const a of answers.filter((a) => a.kind === 'place' && a.orderId)) byKey.set(a.key!, (byKey.get(a.key!) ?? new Set()).add(a.orderId!));
  for (const [key, ids] of byKey) check(ids.size === 1, `key ${key} answered with ${ids.size} orders`);
  for (const a of answers) {
    if (a.kind === 'place' && a.status === 'CONFIRMED') check(['CONFIRMED', 'CANCELLED'].includes(orderRows.get(a.orderId!) ?? ''), `order ${a.orderId} answered CONFIRMED is ${orderRows.get(a.orderId!)}`);
    if (a.kind === 'cancel' && a.status === 'CANCELLED') check(orderRows.get(a.orderId!) === 'CANCELLED', `order ${a.orderId} answered CANCELLED is ${orderRows.get(a.orderId!)}`);
  }
  // Every order that was confirmed produced an event the subscriber received.
  const confirmed = [...orderRows].filter(([id, s]) => ofRun.has(id) && (s === 'CONFIRMED' || s === 'CANCELLED')).map(([id]) => id);
  const missed = confirmed.filter((id) => !seen.has(id));
  check(missed.length === 0, `${missed.length} of ${confirmed.length} confirmed orders never produced an event`);
  if (missed.length > 0) {
    const when = await orders.query<{ id: string; updatedAt: Date }>('SELECT id, "updatedAt" FROM "Order" WHERE id = ANY($1)', [missed]);
    log(`missed events of orders changed at ${when.rows.map((r) => r.updatedAt.toISOString().slice(11, 23)).join(', ')}`);
  }
  // Every order that changed while the administrator's stream was open reached it (5 s allowed for
  // delivery: an event waits in the outbox while Redis is away).
  streaming = false;
  stopStream?.();
  await streamDone;
  const changed = await orders.query<{ id: string; createdAt: Date; updatedAt: Date }>('SELECT id, "createdAt", "updatedAt" FROM "Order" WHERE id = ANY($1)', [confirmed]);
  const whileOpen = changed.rows.filter((o) => openings.some((w) => w.from !== undefined && w.to !== undefined && o.createdAt.getTime() > w.from && o.updatedAt.getTime() < w.to - 5_000));
  const notOnStream = whileOpen.filter((o) => !onStream.has(o.id));
  check(notOnStream.length === 0, `${notOnStream.length} of ${whileOpen.length} orders changed while the administrator's stream was open never reached it`);
  if (notOnStream.length > 0) log(`not on the stream: orders changed at ${notOnStream.map((r) => r.updatedAt.toISOString().slice(11, 23)).join(', ')}`);
  const adminStream = { openings: openings.length, ordersWhileOpen: whileOpen.length, received: onStream.size, errors: streamErrors };
  // No internal error.
  const internal = answers.filter((a) => a.code === 'INTERNAL_SERVER_ERROR').length;
  check(internal === 0, `${internal} INTERNAL_SERVER_ERROR answers`);

  const codes: Record<string, number> = {};
  for (const a of answers) codes[`${a.kind}:${a.code ?? a.status ?? 'OK'}`] = (codes[`${a.kind}:${a.code ?? a.status ?? 'OK'}`] ?? 0) + 1;
  console.log(JSON.stringify({ seconds: SECONDS, customers: CUSTOMERS, answers: answers.length, orders: orderRows.size, confirmed: confirmed.length, keys: byKey.size, codes, adminStream, failures }, null, 2));
  await orders.end();
  await catalog.end();
  await stream.return?.();
  await events.close();
  await outboxPool.end();
  exitCode = failures.length === 0 ? 0 : 1;
  log(failures.length === 0 ? 'every check held' : `${failures.length} checks failed`);
} catch (err) {
  console.error(err);
} finally {
  for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  redis?.kill('SIGKILL');
  try {
    pgCtl('stop');
  } catch {
    // already stopped
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
