// `npm run bench`: figures for the read path, each pair compared in one run (these machines are
// noisy; read the ratios vitest prints, not the absolute numbers).
import { afterAll, bench, describe } from 'vitest';
import { startGateway } from '../gateway/server.js';
import { gatewayConfig, graphql, startStack } from './harness.js';
import { byHash, persisted, send } from './persisted-requests.js';

const stack = await startStack('pglite');
const options = { time: 3_000, warmupIterations: 5 };
afterAll(() => stack.stop());

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
