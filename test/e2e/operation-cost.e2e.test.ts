// The cost of operations at the gateway from the supergraph's @cost and @listSize
// (gateway/features/cost.ts): the estimate before planning and the actual cost of the answer, in
// `extensions.cost` when the client asks with `x-operation-cost: true`, and in
// gateway_operation_cost by client either way; and @listSize's requireOneSlicingArgument, enforced
// before anything is planned, by the gateway and by a subgraph.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { DEFAULT_OPERATION_LIMITS, subgraphLimits } from '../../lib/security/operation-limits.js';
import { startGraphQLServer } from '../../lib/server/graphql-server.js';
import { serviceMetrics } from '../../lib/telemetry/metrics.js';
import { subgraphCalls } from '../support/subgraph-calls.js';
import { bearer, freePort, gatewayConfig, send, startStack, type Stack } from '../support/harness.js';

describe('operation cost at the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(() => stack?.stop());

  const observed = async (kind: string, client: string) => {
    const metric = await serviceMetrics('gateway').registry.getSingleMetric('gateway_operation_cost')!.get();
    const count = metric.values.find((v) => (v as { metricName?: string }).metricName === 'gateway_operation_cost_count' && v.labels.kind === kind && v.labels.client_name === client);
    const sum = metric.values.find((v) => (v as { metricName?: string }).metricName === 'gateway_operation_cost_sum' && v.labels.kind === kind && v.labels.client_name === client);
    return { count: count?.value ?? 0, sum: sum?.value ?? 0 };
  };

  it('answers the estimate (from @listSize) and the actual cost when asked, and records both by client', async () => {
    const query = '{ products(first: 3) { edges { node { id } } } categories { id } }';
    const headers = { 'x-operation-cost': 'true', 'apollographql-client-name': 'cost-probe', ...bearer(undefined) };
    const before = await observed('actual', 'cost-probe');
    const res = await send(stack.gatewayUrl, { query }, { headers });
    expect(res.errors).toBeUndefined();
    const categories = (res.data as { categories: unknown[] }).categories.length;
    // products 1 + edges 1 + 3 × (node 1 + id 1); categories 1 + 20 (assumedSize) × id 1
    expect(res.extensions?.cost).toEqual({ estimated: 1 + 1 + 3 * 2 + 1 + 20, actual: 1 + 1 + 3 * 2 + 1 + categories });
    const after = await observed('actual', 'cost-probe');
    expect(after.count - before.count).toBe(1);
    expect(after.sum - before.sum).toBe(1 + 1 + 3 * 2 + 1 + categories);
    expect((await observed('estimated', 'cost-probe')).sum).toBeGreaterThanOrEqual(1 + 1 + 3 * 2 + 1 + 20);
    // Not asked: no extension.
    expect((await send(stack.gatewayUrl, { query })).extensions?.cost).toBeUndefined();
  });

  it('estimates the operation as planned: fields the access rules took out cost nothing', async () => {
    const res = await send(stack.gatewayUrl, { query: '{ products(first: 2) { edges { node { id reviews(first: 5) { edges { node { author { email } } } } } } } }' }, { headers: { 'x-operation-cost': 'true' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' });
    // author's one field is denied: author, then node, edges and reviews, each left empty, are taken out too.
    expect(res.extensions?.cost).toEqual({ estimated: 1 + 1 + 2 * (1 + 1), actual: 1 + 1 + 2 * (1 + 1) });
  });

  it('refuses, naming the field and its arguments, an operation that leaves out a slicing argument without a default, and plans nothing', async () => {
    // The supergraph with Query.products' page size made required by @listSize alone (no default).
    const dir = await mkdtemp(path.join(tmpdir(), 'slicing-'));
    const sdl = (await readFile(SUPERGRAPH_PATH, 'utf8')).replace('products(first: Int = 20, after: String, filter:', 'products(first: Int, after: String, filter:');
    await writeFile(path.join(dir, 'supergraph.graphql'), sdl);
    const gateway = await startGateway(gatewayConfig(stack.urls, { supergraphPath: path.join(dir, 'supergraph.graphql') }));
    try {
      const refused = await send(gateway.url, { query: 'query NoPageSize { products { edges { node { id } } } }' });
      expect(refused.status).toBe(400);
      expect(refused.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['GRAPHQL_VALIDATION_FAILED', 'Query.products must be given exactly one of its slicing arguments (first), found none.'],
      ]);
      expect(await subgraphCalls('NoPageSize')).toEqual({ users: 0, catalog: 0, orders: 0, reviews: 0 });
      const answered = await send(gateway.url, { query: 'query PageSize($n: Int) { products(first: $n) { edges { node { id } } } }', variables: { n: 2 } });
      expect(answered.errors).toBeUndefined();
      expect((answered.data as { products: { edges: unknown[] } }).products.edges).toHaveLength(2);
      expect((await subgraphCalls('PageSize')).catalog).toBe(1);
    } finally {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('slicing arguments at a subgraph', () => {
  const logger: Logger = createLogger('shelf', process.env.TEST_LOG_LEVEL ?? 'silent');
  let resolved = 0;
  let url = '';
  let close = async () => {};
  beforeAll(async () => {
    // A subgraph served as ours are (lib/server), whose list takes either of two page sizes.
    const typeDefs = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@listSize"])
      type Query { books(first: Int, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"]) }
      type Book { title: String! }`);
    const books = (_: unknown, args: { first?: number; last?: number }) => {
      resolved += 1;
      return Array.from({ length: args.first ?? args.last ?? 0 }, (_, i) => ({ title: `book ${i}` }));
    };
    const server = await startGraphQLServer({
      service: 'shelf',
      source: { schema: buildSubgraphSchema({ typeDefs, resolvers: { Query: { books } } }) },
      port: await freePort(),
      trustedProxies: [],
      logger,
      production: false,
      limits: subgraphLimits(DEFAULT_OPERATION_LIMITS),
      context: async (req) => ({ log: req.log }),
    });
    url = server.url;
    close = server.close;
  });
  afterAll(() => close());

  it('answers a list given one of its slicing arguments, and refuses one given both or neither without resolving it', async () => {
    const answered = await send(url, { query: '{ books(last: 2) { title } }' });
    expect(answered.errors).toBeUndefined();
    expect((answered.data as { books: unknown[] }).books).toHaveLength(2);
    expect(resolved).toBe(1);
    for (const [args, found] of [['(first: 1, last: 2)', '2 (first, last)'], ['', 'none']] as const) {
      const refused = await send(url, { query: `{ books${args} { title } }` });
      expect(refused.status).toBe(400);
      expect(refused.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['GRAPHQL_VALIDATION_FAILED', `Query.books must be given exactly one of its slicing arguments (first, last), found ${found}.`],
      ]);
    }
    expect(resolved).toBe(1);
  });
});
