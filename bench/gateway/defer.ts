// The first-payload latency of a deferred product page against the same page undeferred, with the
// reviews subgraph slowed by a real HTTP hop (test/support/delay-proxy.ts): this gateway, started a
// second time with its reviews behind the hop, answers the web shop's ProductPage (reviews and the
// shipping estimate deferred) and ProductDetail (the same fields, undeferred) in turn. The deferred
// page's first payload should not wait for reviews; the undeferred page does.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { urlVar } from '../../lib/services.js';
import { startDelayProxy, type DelayProxy } from '../../test/support/delay-proxy.js';
import { sendDeferred } from '../../test/support/multipart.js';
import { graphqlUrl } from '../runner/graphql.js';
import { startService, type Service } from '../runner/services.js';
import { fixed, median, quantile } from '../runner/stats.js';
import { printTableHead, row } from '../runner/table.js';

const operationText = (name: string) => readFile(path.join(ROOT, 'operations', 'web', `${name}.graphql`), 'utf8');

export interface DeferredBench {
  gateway: Service;
  proxy: DelayProxy;
}

/** This gateway once more on `port`, its reviews subgraph (REVIEWS_URL) behind a proxy that holds each request `delayMs`. */
export async function startSlowedGateway(supergraphFile: string, reviewsUrl: string, port: number, delayMs: number, env: NodeJS.ProcessEnv): Promise<DeferredBench> {
  const proxy = await startDelayProxy(reviewsUrl);
  proxy.delayMs = delayMs;
  const gateway = await startService(
    'this gateway, reviews slowed',
    ['--import', 'tsx', 'gateway/index.ts'],
    { ...env, [urlVar('reviews')]: proxy.url, GATEWAY_PORT: String(port), SUPERGRAPH_PATH: supergraphFile },
    graphqlUrl(port),
  );
  return { gateway, proxy };
}

/** Milliseconds to the first payload (deferred) and to the whole response (undeferred), request by request in turn. */
export async function measureDeferred(url: string, productId: string, iterations: number) {
  const [deferredPage, plainPage] = await Promise.all([operationText('ProductPage'), operationText('ProductDetail')]);
  const variables = { id: productId };
  const first: number[] = [];
  const whole: number[] = [];
  const plain: number[] = [];
  // One round first, not counted: each page is planned on its first request.
  for (let i = -1; i < iterations; i++) {
    const deferred = await sendDeferred(url, { query: deferredPage, variables });
    if (deferred.payloads.length < 2 || deferred.payloads[0]!.body.errors) throw new Error(`the deferred page failed: ${deferred.raw.slice(0, 300)}`);
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: plainPage, variables }) });
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`the undeferred page failed: ${JSON.stringify(body.errors)}`);
    if (i < 0) continue;
    first.push(deferred.payloads[0]!.at);
    whole.push(deferred.payloads.at(-1)!.at);
    plain.push(performance.now() - started);
  }
  return { first, whole, plain };
}

export function printDeferred(figures: Awaited<ReturnType<typeof measureDeferred>>, delayMs: number) {
  console.log(`\nProduct page with reviews slowed by ${delayMs} ms: deferred (ProductPage) against undeferred (ProductDetail), ${figures.first.length} requests each`);
  printTableHead(['page', 'p50 ms', 'p90 ms']);
  const line = (name: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(row([name, fixed(median(values)), fixed(quantile(sorted, 0.9))]));
  };
  line('deferred: first payload (name, price, stock)', figures.first);
  line('deferred: last payload (reviews, shipping)', figures.whole);
  line('undeferred: whole response', figures.plain);
  console.log(`first payload of the deferred page / undeferred page (p50): ${fixed(median(figures.first) / median(figures.plain), 2)}`);
}
