// What a hostile client sent, refused at the gateway before it plans anything and again by each
// subgraph asked directly; and what the gateway accepts, answered in full by every subgraph.
import { readFileSync } from 'node:fs';
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { createLogger } from '../../lib/logger.js';
import { DEFAULT_OPERATION_LIMITS, estimateOperation, subgraphLimits } from '../../lib/security/operation-limits.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';
import { costModelFromSupergraph, useCostModel } from '../../lib/security/operation-cost.js';
import { SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { seedId } from '../../prisma/seed-data.js';
import { gatewayConfig, operation, send, startStack, type HttpResult, type Stack } from '../support/harness.js';
import { aliasedLogins, aliasedPages, doublingFragments, nestedPages } from '../support/hostile-operations.js';

const GATEWAY = DEFAULT_OPERATION_LIMITS;
const SUBGRAPH = subgraphLimits(GATEWAY);
const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
const api = apiSchemaOf(supergraphSdl);
// Priced as the gateway prices it: by the supergraph's @cost and @listSize.
useCostModel(api, costModelFromSupergraph(supergraphSdl));
const costOf = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return estimateOperation(api, document, document.definitions[0] as OperationDefinitionNode, variables).cost;
};

/** A POST that gives up after 50 s: an answer at all proves the check did not walk 2^40 spreads. */
const post = (url: string, query: string, variables: Record<string, unknown> = {}, requestId?: string): Promise<HttpResult<Record<string, any>>> =>
  send(url, { query, variables }, { headers: requestId ? { 'x-request-id': requestId } : {}, signal: AbortSignal.timeout(50_000) });

function expectRefused(res: HttpResult<Record<string, any>>, message: RegExp) {
  expect(res.status).toBe(400);
  expect(res.data).toBeUndefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(res.errors![0]!.message).toMatch(message);
}

const representations = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Product', id: seedId('product', (i % 80) + 1) }));

describe('operation limits', () => {
  let stack: Stack;
  const logs: Record<string, unknown>[] = [];
  let targets: Record<ServiceName | 'gateway', string>;
  beforeAll(async () => {
    stack = await startStack('pglite', { logs });
    targets = { gateway: stack.gatewayUrl, ...stack.urls };
  });
  afterAll(() => stack?.stop());

  /** The statements of the subgraphs that run none on their own (orders runs a recovery timer). */
  const quietStatements = () => {
    const { users, catalog, reviews } = stack.statements();
    return { users, catalog, reviews };
  };
  /** The largest cost each service logged for one request (a subgraph may get several fetches). */
  const costsOf = (requestId: string) => {
    const costs: Partial<Record<ServiceName | 'gateway', number>> = {};
    for (const line of logs) {
      if (line.requestId !== requestId || line.msg !== 'operation figures') continue;
      const service = line.service as ServiceName | 'gateway';
      costs[service] = Math.max(costs[service] ?? 0, line.cost as number);
    }
    return costs;
  };

  describe('fragments that spread the next one twice, 40 deep (2^39 fields once expanded, 1.6 KB)', () => {
    const attack = doublingFragments(40);

    it.each(['gateway', ...SERVICE_NAMES] as const)('are refused by %s, which answers /health meanwhile', async (target) => {
      const url = targets[target];
      const [res, health] = await Promise.all([
        post(url, attack),
        fetch(url.replace(/\/graphql$/, '/health'), { signal: AbortSignal.timeout(50_000) }),
      ]);
      expect(health.status).toBe(200);
      const limit = target === 'gateway' ? GATEWAY.cost : SUBGRAPH.cost;
      expectRefused(res, new RegExp(`^Query cost limit of ${limit} exceeded, found ${2 ** 39}\\.$`));
    });

    it('are refused also when the document has a fragment cycle besides', async () => {
      const res = await post(stack.gatewayUrl, `${attack} fragment Loop on Query { ...Loop2 } fragment Loop2 on Query { ...Loop ...F0 }`);
      expect(res.status).toBe(400);
      expect(res.errors?.map((e) => e.message)).toContain('Cannot spread fragment "Loop" within itself via "Loop2".');
    });

    it('in the 1 KB version (23 fragments) are refused too, and the gateway still answers', async () => {
      const small = doublingFragments(23);
      expect(small.length).toBeLessThan(1024);
      expectRefused(await post(stack.gatewayUrl, small), /^Query cost limit of 200000 exceeded, found 4194304\.$/);
      expect((await stack.request('{ categories { slug } }')).data!.categories).toHaveLength(8);
    });
  });

  describe('500 aliases of a page of 100 products with 100 reviews each', () => {
    it('are refused by the gateway for their 20,000 tokens, before they are parsed in full', async () => {
      const before = quietStatements();
      expectRefused(await post(stack.gatewayUrl, aliasedPages(500)), /^Token limit of 5000 exceeded\.$/);
      expect(quietStatements()).toEqual(before);
    });

    it('31 of them are refused by the gateway for their aliases', async () => {
      expectRefused(await post(stack.gatewayUrl, aliasedPages(31)), /^Aliases limit of 30 exceeded, found 31\.$/);
    });

    it('are refused by catalog, which owns products', async () => {
      const pages = Array.from({ length: 500 }, (_, i) => `p${i}: products(first: 100) { edges { node { id name } } }`).join(' ');
      expectRefused(await post(stack.urls.catalog, `{ ${pages} }`), new RegExp(`^Aliases limit of ${SUBGRAPH.aliases} exceeded, found 500\\.$`));
    });

    it('under the alias limit, are refused for their cost, counted before anything is fetched', async () => {
      const query = aliasedPages(20);
      const before = quietStatements();
      expectRefused(await post(stack.gatewayUrl, query), new RegExp(`^Query cost limit of 200000 exceeded, found ${costOf(query)}\\.$`));
      expect(costOf(query)).toBe(20 * (2 + 100 * (4 + 100 * 3)));
      expect(quietStatements()).toEqual(before);
    });

    it('and their reviews are refused by the reviews subgraph when asked directly for 5,000 products at once', async () => {
      const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { reviews(first: 100) { edges { node { id rating body } } } } } }';
      const res = await post(stack.urls.reviews, query, { r: representations(5_000) });
      expectRefused(res, new RegExp(`^Query cost limit of ${SUBGRAPH.cost} exceeded, found ${1 + 5_000 * (2 + 100 * 4)}\\.$`));
      const few = await post(stack.urls.reviews, query, { r: representations(10) });
      expect(few.errors).toBeUndefined();
      expect(few.data!._entities).toHaveLength(10);
    });
  });

  describe('pages nested 12 levels deep (products, their category, its products...)', () => {
    const nest = nestedPages(3);

    it('are within the depth limit but refused for their cost by the gateway', async () => {
      expectRefused(await post(stack.gatewayUrl, nest), new RegExp(`^Query cost limit of 200000 exceeded, found ${costOf(nest)}\\.$`));
    });

    it('are refused by catalog asked directly', async () => {
      expectRefused(await post(stack.urls.catalog, nest), new RegExp(`^Query cost limit of ${SUBGRAPH.cost} exceeded`));
    });

    it('one level deeper are refused for their depth', async () => {
      const deeper = nest.replace('{ name }', '{ category { name } }');
      expectRefused(await post(stack.gatewayUrl, deeper), /^Query depth limit of 12 exceeded, found 13\.$/);
      expectRefused(await post(stack.urls.catalog, nestedPages(4)), new RegExp(`^Query depth limit of ${SUBGRAPH.depth} exceeded, found 16\\.$`));
    });
  });

  describe('several logins in one operation (a password-guessing amplifier)', () => {
    const twoLogins = `mutation {
      good: login(email: "alice@example.com", password: "demo-alice-1") { token }
      wrong: login(email: "alice@example.com", password: "not-her-password") { token }
    }`;

    it.each([
      ['two aliased logins', twoLogins, 2],
      ['a login spread twice through fragments', 'mutation { ...A ...B } fragment A on Mutation { a: login(email: "alice@example.com", password: "x-12345678") { token } } fragment B on Mutation { ...A }', 2],
      ['a login and a register', 'mutation { login(email: "bob@example.com", password: "x-12345678") { token } register(input: { email: "new@example.com", password: "x-12345678", name: "N" }) { token } }', 2],
    ])('%s are refused by the gateway before any password is hashed', async (_, query, found) => {
      const before = quietStatements();
      expectRefused(await post(stack.gatewayUrl, query), new RegExp(`^Login and register limit of 1 per operation exceeded, found ${found}\\.$`));
      // Not one user was read: no password was checked, and no failed login can have been counted.
      expect(quietStatements()).toEqual(before);
    });

    it('are refused by the users subgraph asked directly, before any password is hashed', async () => {
      const before = quietStatements();
      expectRefused(await post(stack.urls.users, twoLogins), /^Login and register limit of 1 per operation exceeded, found 2\.$/);
      expectRefused(await post(stack.urls.users, aliasedLogins(100)), new RegExp(`^Aliases limit of ${SUBGRAPH.aliases} exceeded, found 100\\.$`));
      expect(quietStatements()).toEqual(before);
    });

    it('100 aliased logins are refused by the gateway', async () => {
      const before = quietStatements();
      const res = await post(stack.gatewayUrl, aliasedLogins(100));
      expectRefused(res, /^Aliases limit of 30 exceeded, found 100\.$/);
      expect(quietStatements()).toEqual(before);
    });

    it('one login per operation still works, as the web client sends it', async () => {
      const res = await stack.request(operation('Login'), { email: 'alice@example.com', password: 'demo-alice-1' });
      expect(res.errors).toBeUndefined();
      expect(res.data!.login.token).toEqual(expect.any(String));
    });
  });

  describe('with a cost limit of 100', () => {
    let gateway: RunningServer;
    beforeAll(async () => {
      gateway = await startGateway(gatewayConfig(stack.urls, { limits: { ...GATEWAY, cost: 100 } }));
    });
    afterAll(() => gateway?.close());

    it('counts `first: $n` as the value of n', async () => {
      const query = 'query($n: Int) { products(first: $n) { edges { node { id } } } }';
      expectRefused(await post(gateway.url, query, { n: 100 }), /^Query cost limit of 100 exceeded, found 202\.$/); // products, edges, 100 × (node, id)
      const ten = await post(gateway.url, query, { n: 10 });
      expect(ten.errors).toBeUndefined();
      expect(ten.data!.products.edges).toHaveLength(10);
    });

    it('counts a document it has seen again by the values of its variables: a page, a larger one, the default when absent, the schema\'s when null', async () => {
      const query = 'query($n: Int = 100) { products(first: $n) { edges { node { id } } } }';
      expect((await post(gateway.url, query, { n: 10 })).data!.products.edges).toHaveLength(10);
      expectRefused(await post(gateway.url, query, { n: 100 }), /^Query cost limit of 100 exceeded, found 202\.$/);
      expectRefused(await post(gateway.url, query, {}), /^Query cost limit of 100 exceeded, found 202\.$/); // the operation's default
      expect((await post(gateway.url, query, { n: null })).data!.products.edges).toHaveLength(20); // null: the schema's default, 2 + 20 × 2
      expect((await post(gateway.url, query, { n: 10 })).data!.products.edges).toHaveLength(10);
    });

    it('counts the default page size of the schema when `first` is omitted', async () => {
      // products(first: Int = 20) { ... reviews(first: Int = 10) }: 2 + 20 × (3 + 10 × 2)
      expectRefused(await post(gateway.url, '{ products { edges { node { reviews { edges { node { id } } } } } } }'), /^Query cost limit of 100 exceeded, found 462\.$/);
      const res = await post(gateway.url, '{ products { edges { node { id } } } }'); // 2 + 20 × 2
      expect(res.errors).toBeUndefined();
      expect(res.data!.products.edges).toHaveLength(20);
    });
  });

  it('refuses a document of more tokens than the limit while it parses, at the gateway and at a subgraph', async () => {
    const tokens = (n: number) => `{ ${'__typename '.repeat(n - 2)}}`;
    expectRefused(await post(stack.gatewayUrl, tokens(GATEWAY.tokens + 1)), /^Token limit of 5000 exceeded\.$/);
    expectRefused(await post(stack.urls.catalog, tokens(SUBGRAPH.tokens + 1)), new RegExp(`^Token limit of ${SUBGRAPH.tokens} exceeded\\.$`));
    // At the limit the document is parsed, and then refused for what it holds (4,998 root fields).
    const atLimit = await post(stack.gatewayUrl, tokens(GATEWAY.tokens));
    expect(atLimit.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(atLimit.errors?.[0]?.message).not.toMatch(/Token limit/);
  });

  it('refuses more root fields than the limit', async () => {
    const query = `{ ${Array.from({ length: GATEWAY.rootFields + 1 }, (_, i) => `c${i}: categories { id }`).join(' ')} }`;
    expectRefused(await post(stack.gatewayUrl, query), /^Root fields limit of 20 exceeded, found 21\.$/);
  });

  describe('an operation just under the gateway limits', () => {
    // A gateway that waits as long as it takes: these tests are about limits, not speed.
    let patient: RunningServer;
    beforeAll(async () => {
      const sink = { write: (line: string) => void logs.push(JSON.parse(line)) };
      patient = await startGateway(gatewayConfig(stack.urls, { subgraphTimeoutMs: 120_000 }), createLogger('gateway', 'debug', sink));
    });
    afterAll(() => patient?.close());

    // Pages of products that need the catalog's key and @requires fields for orders' shipping
    // estimate, so that the catalog's part costs more than the client's whole query; and reviews'
    // authors, which users resolves from hundreds of representations.
    const shipping = (i: number) => `s${i}: categories { products(first: 100) { edges { node { shippingEstimate { amount } } } } }`;
    const reviews = (alias: string) => `${alias}: products(first: 100) { edges { node { reviews(first: 100) { edges { node { author { name } } } } } } }`;
    // categories are priced at their @listSize (20), so seventeen of them and two pages of reviews come near the limit.
    const query = `{ ${Array.from({ length: 17 }, (_, i) => shipping(i)).join(' ')} ${reviews('r')} ${reviews('r2')} }`;

    it('is answered in full: no subgraph refuses the part the gateway sends it', async () => {
      const cost = costOf(query);
      expect(cost).toBeGreaterThan(0.95 * GATEWAY.cost);
      expect(cost).toBeLessThanOrEqual(GATEWAY.cost);
      const res = await post(patient.url, query, {}, 'just-under-the-limit');
      expect(res.errors).toBeUndefined();
      expect(res.data!.s5).toHaveLength(8);
      expect(res.data!.s5[0].products.edges[0].node.shippingEstimate.amount).toEqual(expect.any(Number));
      expect(res.data!.r.edges.flatMap((e: any) => e.node.reviews.edges).length).toBeGreaterThan(0);

      const costs = costsOf('just-under-the-limit');
      console.log('the largest cost of one request to each service, for an operation just under the limit:', costs);
      expect(costs.gateway).toBe(cost);
      for (const name of SERVICE_NAMES) expect(costs[name], name).toBeLessThanOrEqual(SUBGRAPH.cost);
      // The key and @requires fields the planner adds make the catalog's part cost more than the whole query.
      expect(costs.catalog).toBeGreaterThan(cost);
    });

    it('spreading one fragment over 20 root fields, all four subgraphs answer their part', async () => {
      const fields = 'id sku name price { amount currency } inStock weightGrams shippingEstimate { amount currency } averageRating reviewCount';
      const fragment = `fragment P on Product { ${fields} category { slug name } reviews(first: 2) { edges { node { rating author { name } product { ${fields} } } } } }`;
      const roots = Array.from({ length: GATEWAY.rootFields }, (_, i) => `p${i}: product(id: "${seedId('product', i + 1)}") { ...P }`).join(' ');
      const res = await post(patient.url, `{ ${roots} } ${fragment}`);
      expect(res.errors).toBeUndefined();
      expect(Object.keys(res.data!)).toHaveLength(GATEWAY.rootFields);
      expect(res.data!.p19.shippingEstimate.amount).toEqual(expect.any(Number));
      expect(res.data!.p19.reviews.edges[0].node.author.name).toEqual(expect.any(String));
    });
  });
});
