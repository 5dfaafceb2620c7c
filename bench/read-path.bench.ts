// `npm run bench`: figures for the read path, each pair compared in one run (these machines are
// noisy; read the ratios vitest prints, not the absolute numbers).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, bench, describe } from 'vitest';
import { startGateway } from '../gateway/server.js';
import { gatewayConfig, graphql, operation, startStack } from '../test/support/harness.js';
import { startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { byHash, persisted, send } from '../test/support/persisted-requests.js';
import { median } from './runner/stats.js';

/** A stack in a process of its own (test/support/stack-process.ts) with these variables: tracing is per process. */
async function spawnStack(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../test/support/stack-process.ts', import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the stack process exited (${code}) before it was ready`)));
  });
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { gatewayUrl: (JSON.parse(first) as { gatewayUrl: string }).gatewayUrl, stop: () => (child.kill('SIGTERM'), stopped) };
}

const stack = await startStack('pglite');
// Tracing off (no OTEL_* variable) and on (every request sampled, exported over OTLP/HTTP to a receiver here).
const receiver = await startOtlpReceiver();
const [untraced, traced] = await Promise.all([
  spawnStack({ OTEL_SDK_DISABLED: 'true' }),
  spawnStack({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'bench' }),
]);
const options = { time: 3_000, warmupIterations: 5 };
// On a busy machine the two tracing runs see different loads; alternating one request of each
// gives both the same conditions. Printed when the file ends: the medians and their ratio.
const paired = { off: [] as number[], on: [] as number[] };
afterAll(async () => {
  if (paired.on.length > 0) {
    const [off, on] = [median(paired.off), median(paired.on)];
    console.log(`tracing, ${paired.on.length} alternated pairs: median off ${off.toFixed(1)} ms, on ${on.toFixed(1)} ms, on/off ${(on / off).toFixed(2)}`);
  }
  await Promise.all([stack.stop(), untraced.stop(), traced.stop()]);
  await receiver.close();
});

const page = (first: number) => `{ products(first: ${first}, orderBy: { field: PRICE, direction: ASC }) {
  edges { node { name price { amount } averageRating reviewCount
    reviews(first: 5) { edges { node { rating author { name } } } } } } } }`;

describe('a page of products with reviews and authors: batching keeps 50 close to 10', () => {
  bench('first: 10', async () => {
    await stack.request(page(10));
  }, options);
  bench('first: 50', async () => {
    await stack.request(page(50));
  }, options);
});

describe('the gateway\'s cost over asking catalog directly', () => {
  const query = '{ products(first: 20) { edges { node { id name price { amount } } } } }';
  bench('through the gateway', async () => {
    await stack.request(query);
  }, options);
  bench('catalog subgraph directly', async () => {
    await graphql(stack.catalog.url, query);
  }, options);
});

describe('a product page by persisted id (GET): the gateway\'s response cache against none', async () => {
  const cached = await startGateway(gatewayConfig(stack.urls, { responseCache: { enabled: true, redis: undefined } }));
  afterAll(() => cached.close());
  const { data } = await stack.request('{ products(first: 1) { edges { node { id } } } }');
  const request = { operationName: 'ProductDetail', variables: { id: data!.products.edges[0].node.id }, extensions: byHash(persisted('ProductDetail').id) };
  const get = (url: string) => send(url, request, { method: 'GET', headers: { 'content-type': 'application/json' } });
  bench('response cache', async () => {
    await get(cached.url);
  }, options);
  bench('no response cache', async () => {
    await get(stack.gatewayUrl);
  }, options);
});

describe('tracing: the web ProductList with tracing off (no OTEL_* variable) and on (every request exported)', () => {
  const productList = operation('ProductList');
  const ask = (url: string) => graphql(url, productList, { first: 20 });
  bench('tracing off', async () => {
    await ask(untraced.gatewayUrl);
  }, options);
  bench('tracing on, OTLP export', async () => {
    await ask(traced.gatewayUrl);
  }, options);
  const timed = async (url: string, into: number[]) => {
    const started = performance.now();
    await ask(url);
    into.push(performance.now() - started);
  };
  bench('alternating off and on (see the printed ratio)', async () => {
    await timed(untraced.gatewayUrl, paired.off);
    await timed(traced.gatewayUrl, paired.on);
  }, options);
});
