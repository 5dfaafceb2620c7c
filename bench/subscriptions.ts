// `npm run bench:subscriptions`: how long a stock change takes to reach 1,000 concurrent subscribers
// through the gateway, and what a subscriber costs in memory. The four subgraphs and the gateway
// run as separate processes (embedded PGlite, production gateway accepting free-form operations); the subscribers are graphql-ws
// clients in this process, each on its own connection, each selecting fields of catalog (the
// owner) and of reviews (resolved per event through the query plan). The same events are timed
// with one subscriber first, so the fan-out cost reads as a ratio (timings on a shared machine are
// noisy; ratios less so). `--subscribers N`, `--events N`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SUPERGRAPH_PATH } from '../lib/paths.js';
import { DEMO_ACCOUNTS } from '../prisma/seed-data.js';
import { parseFlags } from './runner/flags.js';
import { post as postTo } from './runner/graphql.js';
import { rssMiB } from './runner/proc.js';
import { stopAll, type Service } from './runner/services.js';
import { Stack } from './runner/stack.js';
import { quantile } from './runner/stats.js';
import { datedHeader } from './runner/table.js';

const args = parseFlags('npm run bench:subscriptions: one stock change to many subscribers through the gateway, and memory per subscriber.', {
  subscribers: { type: 'number', default: 1000, help: 'concurrent subscribers, each on its own connection' },
  events: { type: 'number', default: 5, help: 'stock changes timed, with one subscriber and with all' },
});
const SUBSCRIBERS = args.subscribers;
const EVENTS = args.events;

const stack = new Stack(20_000, 10);
const gatewayUrl = stack.gatewayUrl;

const SUBSCRIPTION = 'subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id name stock averageRating reviewCount } }';

/** Sends one operation to the gateway; its data, or an error with the errors it answered. */
async function post(body: { query: string; variables?: Record<string, unknown> }, token?: string) {
  const result = await postTo(gatewayUrl, body, token);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

interface Subscriber {
  client: Client;
  /** Called with each event's stock. */
  onStock?: (stock: number) => void;
}

/** Opens `n` connections, each with one subscription, and waits until each has its first event. */
async function subscribe(n: number, productId: string): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const client = createClient({ url: gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const subscriber: Subscriber = { client };
    ready.push(
      new Promise<void>((resolve, reject) => {
        let first = true;
        client.subscribe<{ productUpdated: { stock: number } }>(
          { query: SUBSCRIPTION, variables: { ids: [productId] } },
          {
            next: (e) => {
              if (e.errors) return reject(new Error(JSON.stringify(e.errors)));
              if (first) {
                first = false;
                resolve();
              } else subscriber.onStock?.(e.data!.productUpdated.stock);
            },
            error: reject,
            complete: () => {},
          },
        );
      }),
    );
    subscribers.push(subscriber);
    // Opening connections in bursts of 50 keeps the accept queue short.
    if (i % 50 === 49) {
      await Promise.all(ready.slice(-50));
      process.stdout.write(`\r  ${i + 1} subscribed`);
    }
  }
  await Promise.all(ready);
  return subscribers;
}

/** An event that has not reached everyone by then is lost: the run fails, naming how many missed it. */
const EVENT_DEADLINE_MS = 60_000;

/** Changes the stock `events` times; for each, the time until every subscriber saw the new value. */
async function timeEvents(subscribers: Subscriber[], productId: string, adminToken: string, events: number) {
  const latencies: number[] = [];
  let stock = (await post({ query: 'query($id: ID!) { product(id: $id) { stock } }', variables: { id: productId } })).product.stock as number;
  for (let e = 0; e < events; e++) {
    stock += 1;
    const target = stock;
    let left = subscribers.length;
    let start = 0;
    const all = new Promise<void>((resolve) => {
      for (const s of subscribers) {
        s.onStock = (value) => {
          if (value !== target) return;
          latencies.push(performance.now() - start);
          s.onStock = undefined;
          if (--left === 0) resolve();
        };
      }
    });
    start = performance.now();
    await post({ query: 'mutation($id: ID!) { adjustStock(productId: $id, delta: 1) { id } }', variables: { id: productId } }, adminToken);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${left} of ${subscribers.length} subscribers did not see stock ${target} within ${EVENT_DEADLINE_MS} ms`)), EVENT_DEADLINE_MS);
    });
    await Promise.race([all, late]).finally(() => clearTimeout(timer));
  }
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1)! };
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-subscriptions-'));
const services: Service[] = [];
try {
  console.log(datedHeader(`A stock change to ${SUBSCRIBERS} subscribers through the gateway`));
  console.log(`starting four subgraphs and the gateway (ports ${stack.basePort}-${stack.basePort + 4})...`);
  services.push(...(await stack.startSubgraphs({ seedScale: 0.25, dataDir })));
  const gateway = await stack.startGateway({ name: 'gateway', supergraphFile: SUPERGRAPH_PATH });
  services.push(gateway);
  const catalogService = services.find((s) => s.name === 'catalog')!;
  const [admin] = DEMO_ACCOUNTS;
  const adminToken = (await post({ query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', variables: { e: admin.email, p: admin.password } })).login.token as string;
  const productId = (await post({ query: '{ products(first: 1) { edges { node { id } } } }' })).products.edges[0].node.id as string;

  console.log('one subscriber...');
  // Warm up (plans, connections, JIT), then one subscriber alone.
  const solo = await subscribe(1, productId);
  await timeEvents(solo, productId, adminToken, 2);
  const one = await timeEvents(solo, productId, adminToken, EVENTS);
  await Promise.all(solo.map((s) => s.client.dispose()));

  console.log(`${SUBSCRIBERS} subscribers...`);
  const before = { gateway: rssMiB(gateway.pid), catalog: rssMiB(catalogService.pid) };
  const opened = performance.now();
  const many = await subscribe(SUBSCRIBERS, productId);
  const openMs = performance.now() - opened;
  const after = { gateway: rssMiB(gateway.pid), catalog: rssMiB(catalogService.pid) };
  const fanout = await timeEvents(many, productId, adminToken, EVENTS);

  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`\n${SUBSCRIBERS} subscribers connected and at their first event in ${ms(openMs)}`);
  console.log(`event to every subscriber (${EVENTS} events, adjustStock sent -> event received):`);
  console.log(`  1 subscriber     p50 ${ms(one.p50)}  p99 ${ms(one.p99)}  max ${ms(one.max)}`);
  console.log(`  ${SUBSCRIBERS} subscribers  p50 ${ms(fanout.p50)}  p99 ${ms(fanout.p99)}  max ${ms(fanout.max)}`);
  console.log(`  ratio ${SUBSCRIBERS}/1: p50 ×${(fanout.p50 / one.p50).toFixed(1)}, max ×${(fanout.max / one.max).toFixed(1)}`);
  const perSub = (a: number, b: number) => `${(((b - a) * 1024) / SUBSCRIBERS).toFixed(1)} KiB`;
  console.log(`memory per subscriber (resident, after - before, / ${SUBSCRIBERS}):`);
  console.log(`  gateway ${perSub(before.gateway, after.gateway)} (${before.gateway.toFixed(0)} -> ${after.gateway.toFixed(0)} MiB)`);
  console.log(`  catalog ${perSub(before.catalog, after.catalog)} (${before.catalog.toFixed(0)} -> ${after.catalog.toFixed(0)} MiB; the subscribers share one stream: same operation, variables, no token)`);
  console.log('(timings on a shared machine are noisy: read the ratio)');
  await Promise.all(many.map((s) => s.client.dispose()));
} finally {
  await stopAll(services);
  await rm(dataDir, { recursive: true, force: true });
}
