// One harness for the end-to-end tests: starts the four subgraphs and the gateway as real HTTP
// servers on free ports, on the embedded PGlite or on fresh PostgreSQL databases (dropped after).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { ADMIN_URL, backends, skipped, type Backend } from './available.js';
import { graphql, type HttpResult } from './http.js';
import { startGateway } from '../../gateway/server.js';
import { Tokens, type Viewer } from '../../lib/security/auth.js';
import type { GatewayConfig, SubgraphConfig } from '../../lib/config.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { generateSigningKey, keyEnvOf, keyVarsOf, resolveTokenKeys, type Issuer, type KeyHolder, type SigningKey, type TokenKeys } from '../../lib/security/keys.js';
import { createLogger } from '../../lib/logger.js';
import { DEFAULT_OPERATION_LIMITS } from '../../lib/security/operation-limits.js';
import { ROOT, SUPERGRAPH_PATH } from '../../lib/paths.js';
import { SERVICE_ENTRIES, serviceBundles } from '../../tools/service-build.js';
import { SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import { catalog } from '../../subgraphs/catalog/server.js';
import type { CatalogDb } from '../../subgraphs/catalog/db.js';
import { orders } from '../../subgraphs/orders/server.js';
import type { OrdersDb } from '../../subgraphs/orders/db.js';
import { reviews } from '../../subgraphs/reviews/server.js';
import type { ReviewsDb } from '../../subgraphs/reviews/db.js';
import { users } from '../../subgraphs/users/server.js';
import type { UsersDb } from '../../subgraphs/users/db.js';

/** This run's token keys: generated, so that no test relies on the committed development keys. */
export const TEST_KEYS: Record<Issuer, SigningKey> = { users: generateSigningKey(), orders: generateSigningKey() };

/** The key variables of one service, for a service the test starts as its own process. */
export const keyEnv = (holder: KeyHolder): Record<string, string> => keyEnvOf(holder, TEST_KEYS);

/** What a service holds in the tests, as in production: its own private key, the public keys it verifies with. */
export function testTokenKeys(holder: KeyHolder): TokenKeys {
  const vars = Object.fromEntries(keyVarsOf(holder).map(({ variable, kind, issuer }) => [variable, kind === 'private' ? TEST_KEYS[issuer] : [TEST_KEYS[issuer]]]));
  return resolveTokenKeys(holder, vars, false).keys;
}

const signer = new Tokens({ users: { signing: TEST_KEYS.users, verifying: [] }, orders: { signing: TEST_KEYS.orders, verifying: [] } });
/** A valid user token for this viewer, as the users service would sign it. */
export const userToken = (viewer: Viewer, expiresIn?: string | number): Promise<string> => signer.sign(viewer, expiresIn);
/** A valid service token, for calling catalog's internal operations directly as the orders service does. */
export const serviceToken = (service: 'orders' = 'orders'): Promise<string> => signer.signService(service);

export { ADMIN_URL, TEST_REDIS_URL, type Backend } from './available.js';

/**
 * One suite per backend, named by `title` with %s for the backend: PGlite always; PostgreSQL
 * counted as skipped, with the reason in its name, where it is not reachable.
 */
export async function describeOnBackends(title: string, suite: (backend: Backend) => void): Promise<void> {
  for (const { backend, skip } of await backends()) describe.skipIf(skip !== undefined)(skipped(title.replace('%s', backend), skip), () => suite(backend));
}

/** Creates one fresh database per subgraph; returns their URLs and a function that drops them. */
export async function createPostgresDatabases(): Promise<{ urls: Record<ServiceName, string>; drop(): Promise<void> }> {
  const prefix = `cs_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const urls = {} as Record<ServiceName, string>;
  for (const name of SERVICE_NAMES) {
    await admin.query(`CREATE DATABASE "${prefix}_${name}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${prefix}_${name}`;
    urls[name] = url.toString();
  }
  await admin.end();
  return {
    urls,
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      for (const name of SERVICE_NAMES) await client.query(`DROP DATABASE IF EXISTS "${prefix}_${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

export function subgraphConfig(name: ServiceName, overrides: Partial<SubgraphConfig> = {}): SubgraphConfig {
  return {
    name,
    port: 0,
    production: false,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    keys: testTokenKeys(name),
    databaseUrl: undefined,
    dataDir: undefined,
    seed: true,
    seedScale: 0.25,
    subgraphUrls: { users: '', catalog: '', orders: '', reviews: '' },
    recovery: { minAgeSeconds: 30, intervalMs: 60_000 },
    faults: { crashAfterReserve: false, crashBeforeReserveAnswer: false },
    trustedProxies: ['loopback', 'uniquelocal'],
    // Out of the way of tests about other things; test/e2e/login-throttle.e2e.test.ts sets its own.
    loginThrottle: { failuresPerAccount: 1000, failuresPerAddress: 1000, failureWindowSeconds: 900, registrationsPerAddress: 1000, registrationWindowSeconds: 3600 },
    redis: undefined,
    limits: DEFAULT_OPERATION_LIMITS,
    ...overrides,
  };
}

/** A development gateway on a free port; the given URLs override the supergraph's routing URLs of those subgraphs. */
export function gatewayConfig(subgraphUrls: Partial<Record<ServiceName, string>>, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    production: false,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    keys: testTokenKeys('gateway'),
    port: 0,
    introspect: false,
    supergraphPath: SUPERGRAPH_PATH,
    subgraphUrls,
    subgraphTimeoutMs: 5_000,
    dedupeSubgraphQueries: true,
    rejectUnauthorized: false,
    costAssumedListSize: 10,
    // Out of the way of tests about other things; test/e2e/cost-budget.e2e.test.ts sets its own.
    costBudget: { points: 1e12, adminPoints: 1e12, servicePoints: 1e12, windowSeconds: 60, key: 'viewer', redis: undefined },
    apolloTelemetry: false,
    trustedProxies: [],
    limits: DEFAULT_OPERATION_LIMITS,
    trustedDocuments: { policy: 'any', manifestPath: path.join(ROOT, 'operations', 'persisted-query-manifest.json'), adminKey: undefined },
    // Off: tests change the databases directly and read the change back at once.
    responseCache: { enabled: false, redis: undefined },
    ...overrides,
  };
}

export { bearer, freePort, graphql, send, sendBatch, type BatchResult, type GraphQLResponse, type HttpResult, type OperationRequest } from './http.js';

export interface Stack {
  backend: Backend;
  gatewayUrl: string;
  users: RunningSubgraph<UsersDb>;
  catalog: RunningSubgraph<CatalogDb>;
  orders: RunningSubgraph<OrdersDb> | undefined;
  reviews: RunningSubgraph<ReviewsDb>;
  request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<HttpResult<T>>;
  login(email: string, password: string): Promise<string>;
  /** Statements each subgraph has run so far. */
  /** Where each subgraph of this stack listens. */
  urls: Record<ServiceName, string>;
  /** Each subgraph's PostgreSQL database (postgres backend only), e.g. for a second replica. */
  databaseUrls: Record<ServiceName, string> | undefined;
  statements(): Record<ServiceName, number>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Where orders runs when the test starts it itself (as a separate process). */
  externalOrders?: { url: string };
  orders?: Partial<SubgraphConfig>;
  /** Collects every service's log lines (at debug level) here. */
  logs?: Record<string, unknown>[];
  /** Gateway settings of this stack (e.g. `webRoot` to serve the web shop). */
  gateway?: Partial<GatewayConfig>;
}

export async function startStack(backend: Backend, options: StackOptions = {}): Promise<Stack> {
  const pgDatabases = backend === 'postgres' ? await createPostgresDatabases() : undefined;
  const db = (name: ServiceName) => ({ databaseUrl: pgDatabases?.urls[name] });
  const servers: RunningServer[] = [];
  const sink = options.logs && { write: (line: string) => void options.logs!.push(JSON.parse(line)) };
  const logger = (service: string) => (sink ? createLogger(service, 'debug', sink) : undefined);
  try {
    const [u, c] = await Promise.all([
      startSubgraph(users, subgraphConfig('users', db('users')), logger('users')),
      startSubgraph(catalog, subgraphConfig('catalog', db('catalog')), logger('catalog')),
    ]);
    servers.push(u, c);
    const urls = { users: u.url, catalog: c.url, orders: options.externalOrders?.url ?? '', reviews: '' };
    const [o, r] = await Promise.all([
      options.externalOrders
        ? undefined
        : startSubgraph(orders, subgraphConfig('orders', { ...db('orders'), subgraphUrls: urls, ...options.orders }), logger('orders')),
      startSubgraph(reviews, subgraphConfig('reviews', { ...db('reviews'), subgraphUrls: urls }), logger('reviews')),
    ]);
    if (o) servers.push(o);
    servers.push(r);
    urls.orders = o?.url ?? urls.orders;
    urls.reviews = r.url;
    const gateway = await startGateway(gatewayConfig(urls, options.gateway), logger('gateway'));
    servers.unshift(gateway);
    const request: Stack['request'] = <T,>(query: string, variables: Record<string, unknown> = {}, token?: string) =>
      graphql<T>(gateway.url, query, variables, token);
    return {
      backend,
      gatewayUrl: gateway.url,
      users: u,
      catalog: c,
      orders: o,
      reviews: r,
      urls,
      databaseUrls: pgDatabases?.urls,
      request,
      async login(email, password) {
        const res = await request('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', { e: email, p: password });
        if (!res.data?.login) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
        return res.data.login.token as string;
      },
      statements: () => ({ users: u.db.statements(), catalog: c.db.statements(), orders: o?.db.statements() ?? 0, reviews: r.db.statements() }),
      async stop() {
        for (const s of servers) await s.close();
        await pgDatabases?.drop();
      },
    };
  } catch (err) {
    for (const s of servers) await s.close().catch(() => {});
    await pgDatabases?.drop();
    throw err;
  }
}

export interface NewProduct {
  stock: number;
  price?: number;
  name?: string;
  description?: string;
  weightGrams?: number;
  /** The first category when not given (asked as the administrator: a production gateway runs free-form operations only for one). */
  categoryId?: string;
  /** An administrator's token; one is signed when not given. */
  token?: string;
}

export interface CreatedProduct {
  id: string;
  sku: string;
  name: string;
  stock: number;
  price: { amount: number; currency: string };
}

/** A product only the calling test sells (a fresh SKU), created through the gateway as an administrator does. */
export async function newProduct(stack: Stack, { stock, price = 1250, name, description, weightGrams = 700, categoryId, token }: NewProduct): Promise<CreatedProduct> {
  const admin = token ?? (await userToken({ id: 'test-admin', role: 'ADMIN' }));
  const category = categoryId ?? (await stack.request<{ categories: { id: string }[] }>('{ categories { id } }', {}, admin)).data!.categories[0]!.id;
  const sku = `TEST-${stack.backend}-${randomBytes(6).toString('hex')}`;
  const res = await stack.request(operation('CreateProduct'), { input: { sku, name: name ?? `Test product ${sku}`, description, price, stock, weightGrams, categoryId: category } }, admin);
  if (!res.data?.createProduct) throw new Error(`createProduct failed: ${JSON.stringify(res.errors)}`);
  return res.data.createProduct as CreatedProduct;
}

/** Everything a request could change, in all four databases: compare one before and one after. */
export async function snapshot(stack: Stack) {
  const [products, categories, reservations, lines, orders, items, reviews, users] = await Promise.all([
    stack.catalog.db.client.product.findMany({ orderBy: { id: 'asc' } }),
    stack.catalog.db.client.category.findMany({ orderBy: { id: 'asc' } }),
    stack.catalog.db.client.stockReservation.findMany({ orderBy: { orderId: 'asc' } }),
    stack.catalog.db.client.reservationLine.count(),
    stack.orders!.db.client.order.findMany({ orderBy: { id: 'asc' } }),
    stack.orders!.db.client.orderItem.count(),
    stack.reviews.db.client.review.count(),
    stack.users.db.client.user.count(),
  ]);
  return { products, categories, reservations, lines, orders, items, reviews, users };
}

const OPERATIONS_DIR = path.join(ROOT, 'operations');
/** A client operation from operations/<client>/<Name>.graphql, as the clients send it. */
export function operation(name: string): string {
  for (const client of readdirSync(OPERATIONS_DIR, { withFileTypes: true })) {
    if (!client.isDirectory()) continue;
    const file = path.join(OPERATIONS_DIR, client.name, `${name}.graphql`);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      // not in this client's folder
    }
  }
  throw new Error(`no operation ${name} under operations/`);
}

/**
 * What a response body shows a client that it must not: an address (a subgraph's URL, host or
 * port) or a stack trace. Empty when the body is clean; ports are looked for in `errors` only,
 * where an address would be, so that ids and prices in `data` cannot match by chance.
 */
export function leaksIn(text: string, urls: Partial<Record<ServiceName, string>>): string[] {
  const found: string[] = [];
  if (/https?:\/\//.test(text)) found.push('a URL');
  if (text.includes('localhost') || text.includes('127.0.0.1')) found.push('a host');
  if (/stacktrace|\bat .+\.[jt]s:\d+/.test(text)) found.push('a stack trace');
  const parsed = (() => {
    try {
      return JSON.parse(text) as { errors?: unknown };
    } catch {
      return { errors: text };
    }
  })();
  const errors = JSON.stringify(parsed.errors ?? '');
  for (const [name, url] of Object.entries(urls)) {
    const port = url ? new URL(url).port : '';
    if (port && errors.includes(port)) found.push(`the port of ${name}`);
  }
  return found;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * A service as a process of its own, from the compiled bundle as `npm start` runs it (built before
 * the tests, test/support/global-setup.ts). Resolves once the service says it is serving (lib/server/main.ts);
 * rejects with its output if it exits first.
 */
export async function startServiceProcess(entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const bundle = (await serviceBundles(SERVICE_ENTRIES))[entry];
  if (!bundle) throw new Error(`${entry} is not a service entry point`);
  const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'started' && resolve());
    child.once('exit', (code, signal) => reject(new Error(`${entry} exited (${signal ?? code}) before it was serving:\n${output}`)));
  });
  return { child, output: () => output };
}
