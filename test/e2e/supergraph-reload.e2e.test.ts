// The supergraph reloads in place (gateway/features/supergraph.ts): a changed file is served without
// a restart, GET /ready names it; a broken one is refused (one log line, the metric) and the last
// good one kept; a Kubernetes ConfigMap's symlink swap is seen; SIGHUP reloads a gateway process;
// open subscriptions (graphql-ws and SSE) go on across a reload without losing or repeating an
// event, and one the new schema no longer serves ends with one error naming why.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { freePort, gatewayConfig, graphql, keyEnv, newProduct, operation, startServiceProcess, startStack, type ServiceProcess, type Stack } from '../support/harness.js';
import { connectWs, subscribeSse, type WsConnection } from '../support/subscription-client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

const [admin, alice] = DEMO_ACCOUNTS;
const hashOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 12);
const original = await readFile(SUPERGRAPH_PATH, 'utf8');

const PRODUCT_UPDATED_DOC = 'Stock, price or name of these products (1 to 100) as they change. The first events are their current state.';
/** The committed supergraph with another description of Subscription.productUpdated: a change the running subgraphs serve as they are. */
const described = (text: string) => {
  expect(original).toContain(PRODUCT_UPDATED_DOC);
  return original.replace(PRODUCT_UPDATED_DOC, text);
};
/** The committed supergraph without Product.averageRating (reviews still has it; the gateway no longer asks). */
const withoutAverageRating = (sdl: string) => {
  const field = '  """Mean rating, null while the product has no reviews."""\n  averageRating: Float @join__field(graph: REVIEWS)\n';
  expect(sdl).toContain(field);
  return sdl.replace(field, '');
};

const readyOf = async (graphqlUrl: string) => (await fetch(graphqlUrl.replace(/\/graphql$/, '/ready'))).json() as Promise<{ status: string; supergraph?: string }>;
const reloads = async (graphqlUrl: string, outcome: string) => {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_supergraph_reloads_total{`) && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};
const descriptionServed = async (graphqlUrl: string) => {
  const res = await graphql<{ __type: { fields: { name: string; description: string }[] } }>(graphqlUrl, '{ __type(name: "Subscription") { fields { name description } } }');
  return res.data!.__type.fields.find((f) => f.name === 'productUpdated')!.description;
};

describe('the supergraph reloads in place', () => {
  let stack: Stack;
  let dir: string;
  let file: string;
  let adminToken: string;
  let aliceToken: string;
  const logs: Record<string, unknown>[] = [];
  const connections: WsConnection[] = [];
  const gateways: RunningServer[] = [];
  /** Replaces the file as editors do: written beside it, then renamed over it. */
  const replace = async (sdl: string) => {
    await writeFile(`${file}.tmp`, sdl);
    await rename(`${file}.tmp`, file);
  };
  const refusals = () => logs.filter((l) => l.service === 'gateway' && l.msg === 'supergraph file refused: still serving the last good supergraph');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'supergraph-reload-'));
    file = path.join(dir, 'supergraph.graphql');
    await writeFile(file, original);
    stack = await startStack('pglite', { logs, gateway: { supergraphPath: file } });
    [adminToken, aliceToken] = await Promise.all([stack.login(admin.email, admin.password), stack.login(alice.email, alice.password)]);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.dispose()));
    for (const g of gateways) await g.close();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a changed file without a restart, and GET /ready names it', async () => {
    expect(await readyOf(stack.gatewayUrl)).toEqual({ status: 'ready', supergraph: hashOf(original) });
    const applied = await reloads(stack.gatewayUrl, 'applied');
    const changed = described('Products as they change (reloaded).');
    await writeFile(file, changed); // written in place
    await waitFor('the new supergraph in use', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(changed));
    expect(await descriptionServed(stack.gatewayUrl)).toBe('Products as they change (reloaded).');
    expect(await reloads(stack.gatewayUrl, 'applied')).toBe(applied + 1);
    // The same content again is no reload.
    await replace(changed);
    await replace(original);
    await waitFor('the original back', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(original));
    expect(await reloads(stack.gatewayUrl, 'applied')).toBe(applied + 2);
  });

  it('refuses a broken file with one log line and the metric, and keeps serving the last good supergraph', async () => {
    const refused = await reloads(stack.gatewayUrl, 'refused');
    const before = refusals().length;
    await replace(original.replace('type Query', 'type Query {{ broken'));
    await waitFor('the refusal counted', async () => (await reloads(stack.gatewayUrl, 'refused')) === refused + 1);
    expect((await readyOf(stack.gatewayUrl)).supergraph).toBe(hashOf(original));
    expect((await stack.request('{ categories { id } }')).errors).toBeUndefined();
    expect(await descriptionServed(stack.gatewayUrl)).toBe(PRODUCT_UPDATED_DOC);
    // A good file after it is applied; the broken one was reported once.
    const good = described('After a broken file.');
    await replace(good);
    await waitFor('the good file in use', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(good));
    expect(refusals().length - before).toBe(1);
    expect(refusals().at(-1)).toMatchObject({ reason: 'invalid', supergraph: hashOf(original) });
    expect(await reloads(stack.gatewayUrl, 'refused')).toBe(refused + 1);
    await replace(original);
    await waitFor('the original back', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(original));
  });

  it("sees a Kubernetes ConfigMap's update: the kubelet swaps the ..data symlink of the mounted directory", async () => {
    const mount = path.join(dir, 'configmap');
    await mkdir(path.join(mount, '..v1'), { recursive: true });
    await writeFile(path.join(mount, '..v1', 'supergraph.graphql'), original);
    await symlink('..v1', path.join(mount, '..data'));
    await symlink('..data/supergraph.graphql', path.join(mount, 'supergraph.graphql'));
    const gateway = await startGateway(gatewayConfig(stack.urls, { supergraphPath: path.join(mount, 'supergraph.graphql') }));
    gateways.push(gateway);
    expect((await readyOf(gateway.url)).supergraph).toBe(hashOf(original));
    const changed = described('From a ConfigMap.');
    await mkdir(path.join(mount, '..v2'));
    await writeFile(path.join(mount, '..v2', 'supergraph.graphql'), changed);
    await symlink('..v2', path.join(mount, '..data_tmp'));
    await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
    await waitFor('the ConfigMap update in use', async () => (await readyOf(gateway.url)).supergraph === hashOf(changed));
    expect(await descriptionServed(gateway.url)).toBe('From a ConfigMap.');
  });

  it('open subscriptions over graphql-ws and SSE go on across a reload: no error, no reconnect, every event once and in order', async () => {
    const product = await newProduct(stack, { stock: 100, token: adminToken });
    // shippingEstimate comes from orders (@requires on catalog's fields): each event is completed through a plan.
    const query = 'subscription Stock($ids: [ID!]!) { productUpdated(ids: $ids) { id stock shippingEstimate { amount } } }';
    const conn = connectWs(stack.gatewayUrl, adminToken);
    connections.push(conn);
    const ws = conn.subscribe(query, { ids: [product.id] });
    const sse = subscribeSse(stack.gatewayUrl, query, { ids: [product.id] }, adminToken);
    await ws.next((e) => e.data?.productUpdated?.stock === 100, 'the current stock (ws)');
    await sse.next((e) => e.data?.productUpdated?.stock === 100, 'the current stock (sse)');
    const adjust = async () => expect((await stack.request(operation('AdjustStock'), { productId: product.id, delta: 1 }, adminToken)).errors).toBeUndefined();
    const changed = described('Products as they change, during a reload.');
    // Events before, during and after the swap: three in flight while the file changes, three after it.
    for (let i = 0; i < 3; i++) await adjust();
    await Promise.all([replace(changed), adjust(), adjust(), adjust()]);
    await waitFor('the new supergraph in use', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(changed));
    for (let i = 0; i < 3; i++) await adjust();
    const expected = Array.from({ length: 10 }, (_, i) => 100 + i);
    for (const sub of [ws, sse]) {
      await sub.next((e) => e.data?.productUpdated?.stock === 109, 'the last event');
      expect(sub.events.map((e) => e.errors)).toEqual(expected.map(() => undefined));
      expect(sub.events.map((e) => e.data!.productUpdated.stock)).toEqual(expected);
      expect(sub.events.every((e) => e.data!.productUpdated.shippingEstimate.amount > 0)).toBe(true);
    }
    expect(conn.closes).toEqual([]);
    ws.stop();
    sse.stop();
  });

  it('a reload that routes a subgraph to a new address moves open subscriptions there, resuming after their last event', async () => {
    const product = await newProduct(stack, { stock: 50, token: adminToken });
    // Two addresses of the same catalog: the supergraph routes to the first, then to the second.
    const catalogPort = Number(new URL(stack.urls.catalog).port);
    const [first, second] = await Promise.all([startTcpProxy({ host: '127.0.0.1', port: catalogPort }), startTcpProxy({ host: '127.0.0.1', port: catalogPort })]);
    const routedTo = (url: string) => original.replace(/(@join__graph\(name: "catalog", url: ")[^"]*/, `$1${url}`);
    const movingDir = await mkdtemp(path.join(tmpdir(), 'supergraph-moving-'));
    const moving = path.join(movingDir, 'supergraph.graphql');
    await writeFile(moving, routedTo(first.via(stack.urls.catalog)));
    try {
      // No CATALOG_URL: the gateway routes catalog by the supergraph's URL.
      const gateway = await startGateway(gatewayConfig({ ...stack.urls, catalog: undefined }, { supergraphPath: moving }));
      gateways.push(gateway);
      const conn = connectWs(gateway.url, adminToken);
      connections.push(conn);
      const sub = conn.subscribe(operation('ProductUpdates'), { ids: [product.id] });
      await sub.next((e) => e.data?.productUpdated?.stock === 50, 'the current stock');
      const moved = routedTo(second.via(stack.urls.catalog));
      await writeFile(`${moving}.tmp`, moved);
      await rename(`${moving}.tmp`, moving);
      await waitFor('the new supergraph in use', async () => (await readyOf(gateway.url)).supergraph === hashOf(moved));
      await waitFor('the subscription at the new address', () => second.accepted > 0);
      // The old address goes away: a stream still subscribed there would wait for it in vain.
      first.cut();
      expect((await stack.request(operation('AdjustStock'), { productId: product.id, delta: 1 }, adminToken)).errors).toBeUndefined();
      await sub.next((e) => e.data?.productUpdated?.stock === 51, 'the change, through the new address');
      expect(sub.events.map((e) => [e.errors, e.data?.productUpdated?.stock])).toEqual([
        [undefined, 50],
        [undefined, 51],
      ]);
      expect(conn.closes).toEqual([]);
      sub.stop();
    } finally {
      await Promise.all([first.close(), second.close()]);
      await rm(movingDir, { recursive: true, force: true });
    }
  });

  it('a subscription whose field the new supergraph removes ends with one error naming why; the others go on', async () => {
    const product = await newProduct(stack, { stock: 20, token: adminToken });
    const order = (await stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity: 1 }] } }, aliceToken)).data!.placeOrder as { id: string };
    const conn = connectWs(stack.gatewayUrl, aliceToken);
    connections.push(conn);
    const rated = conn.subscribe(operation('OrderUpdates'), { id: order.id }); // selects Product.averageRating
    const sse = subscribeSse(stack.gatewayUrl, operation('OrderUpdates'), { id: order.id }, aliceToken);
    const stock = conn.subscribe('subscription ($ids: [ID!]!) { productUpdated(ids: $ids) { id stock } }', { ids: [product.id] });
    await rated.next((e) => e.data?.orderUpdated?.id === order.id, 'the order (ws)');
    await sse.next((e) => e.data?.orderUpdated?.id === order.id, 'the order (sse)');
    await stock.next((e) => e.data?.productUpdated?.stock === 19, 'the stock');
    const removed = withoutAverageRating(original);
    await replace(removed);
    for (const sub of [rated, sse]) {
      expect(await sub.ended).toEqual({ error: undefined }); // completed, not failed
      const errors = sub.events.flatMap((e) => e.errors ?? []);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ extensions: { code: 'SUBSCRIPTION_INVALIDATED_BY_SCHEMA_CHANGE' } });
      expect(errors[0]!.message).toContain('averageRating');
    }
    expect((await readyOf(stack.gatewayUrl)).supergraph).toBe(hashOf(removed));
    // A new subscription to it is refused as invalid; the unaffected one goes on.
    expect((await stack.request(operation('AdjustStock'), { productId: product.id, delta: 3 }, adminToken)).errors).toBeUndefined();
    await stock.next((e) => e.data?.productUpdated?.stock === 22, 'the stock after the reload');
    expect(stock.events.flatMap((e) => e.errors ?? [])).toEqual([]);
    expect(conn.closes).toEqual([]);
    stock.stop();
    await replace(original);
    await waitFor('the original back', async () => (await readyOf(stack.gatewayUrl)).supergraph === hashOf(original));
  });

  it('a gateway process reloads on SIGHUP (a file its directory watch cannot see change) and keeps running', async () => {
    // The file is a symlink into another directory, changed in place there: only SIGHUP tells the gateway.
    const target = path.join(dir, 'elsewhere');
    await mkdir(target);
    await writeFile(path.join(target, 'supergraph.graphql'), original);
    const linkDir = path.join(dir, 'linked');
    await mkdir(linkDir);
    await symlink(path.join(target, 'supergraph.graphql'), path.join(linkDir, 'supergraph.graphql'));
    const port = await freePort();
    const gateway: ServiceProcess = await startServiceProcess('gateway/index.ts', {
      ...keyEnv('gateway'),
      LOG_LEVEL: 'info',
      GATEWAY_PORT: String(port),
      SUPERGRAPH_PATH: path.join(linkDir, 'supergraph.graphql'),
      USERS_URL: stack.urls.users,
      CATALOG_URL: stack.urls.catalog,
      ORDERS_URL: stack.urls.orders,
      REVIEWS_URL: stack.urls.reviews,
    });
    const url = `http://localhost:${port}/graphql`;
    try {
      expect((await readyOf(url)).supergraph).toBe(hashOf(original));
      const changed = described('Reloaded on SIGHUP.');
      await writeFile(path.join(target, 'supergraph.graphql'), changed);
      gateway.child.kill('SIGHUP');
      await waitFor('the new supergraph in use', async () => (await readyOf(url)).supergraph === hashOf(changed));
      expect(await descriptionServed(url)).toBe('Reloaded on SIGHUP.');
      expect(gateway.output()).toContain('SIGHUP');
      expect(gateway.child.exitCode).toBeNull();
    } finally {
      gateway.child.kill('SIGTERM');
    }
  });
});
