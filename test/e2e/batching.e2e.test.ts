// Batched requests (gateway/features/batching.ts): refused while BATCH_MAX_OPERATIONS is off; when
// on, answered in order with each operation's own errors, refused whole over the size, summed-cost
// and password-check limits before anything runs, each operation under the trusted-documents policy,
// and what Apollo Client's BatchHttpLink sends. The feature lives in the gateway alone, so one
// database backend is enough here.
import { readFileSync } from 'node:fs';
import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { DEFAULT_OPERATION_LIMITS, estimateOperation } from '../../lib/security/operation-limits.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { gatewayConfig, send, sendBatch, startStack, type BatchResult, type Stack } from '../support/harness.js';
import { byHash, persisted } from '../support/persisted-requests.js';

const MAX_OPERATIONS = 3;
const CATEGORIES = '{ categories { id name } }';
const PRODUCTS = 'query($first: Int!) { products(first: $first) { edges { node { id name } } } }';
const api = apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8'));
const costOf = (query: string, variables: Record<string, unknown>) => {
  const document = parse(query);
  return estimateOperation(api, document, document.definitions[0] as OperationDefinitionNode, variables).cost;
};
// A cost limit one page of 100 products stays under, and two such pages together exceed; far above
// what the other operations here cost (a list of categories counts as 100).
const PAGE = { query: 'query($first: Int!) { products(first: $first) { edges { node { id sku name description } } } }', variables: { first: 100 } };
const COST_LIMIT = Math.floor(costOf(PAGE.query, PAGE.variables) * 1.5);
const LIMITS = { ...DEFAULT_OPERATION_LIMITS, cost: COST_LIMIT };

const register = (email: string) => ({
  query: 'mutation($input: RegisterInput!) { register(input: $input) { user { id } } }',
  variables: { input: { email, password: 'a-long-password', name: 'Batch Tester' } },
});
const login = (email: string, password: string) => ({
  query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }',
  variables: { e: email, p: password },
});

/** A batch refused as a whole: one error object (not an array), nothing answered per operation. */
function expectRefusedWhole(res: BatchResult, code: string, message: RegExp) {
  expect(res.status).toBe(400);
  expect(res.results).toBeUndefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]!.extensions?.code).toBe(code);
  expect(res.errors![0]!.message).toMatch(message);
}

describe('batched requests', () => {
  let stack: Stack;
  let off: RunningServer;
  let production: RunningServer;
  const userExists = async (email: string) => (await stack.users.db.client.user.count({ where: { email } })) > 0;

  beforeAll(async () => {
    stack = await startStack('pglite', { gateway: { batching: { maxOperations: MAX_OPERATIONS }, limits: LIMITS } });
    off = await startGateway(gatewayConfig(stack.urls));
    const config = gatewayConfig(stack.urls, { production: true, batching: { maxOperations: MAX_OPERATIONS } });
    production = await startGateway({ ...config, trustedDocuments: { ...config.trustedDocuments, policy: 'manifest' } });
  });
  afterAll(async () => {
    await off?.close();
    await production?.close();
    await stack?.stop();
  });

  it('are refused with HTTP 400 while BATCH_MAX_OPERATIONS is off, running nothing', async () => {
    const res = await sendBatch(off.url, [{ query: CATEGORIES }, register('off@example.com')]);
    expectRefusedWhole(res, 'BAD_REQUEST', /batching disabled/i);
    expect(await userExists('off@example.com')).toBe(false);
    // One operation per request still works there.
    expect((await send(off.url, { query: CATEGORIES })).data?.categories.length).toBeGreaterThan(0);
  });

  it('answer two queries in the order they were sent', async () => {
    const res = await sendBatch(stack.gatewayUrl, [{ query: PRODUCTS, variables: { first: 2 } }, { query: CATEGORIES }]);
    expect(res.status).toBe(200);
    expect(res.results).toHaveLength(2);
    expect(res.results![0]!.errors).toBeUndefined();
    expect(res.results![0]!.data?.products.edges).toHaveLength(2);
    expect(res.results![1]!.errors).toBeUndefined();
    expect(res.results![1]!.data?.categories.length).toBeGreaterThan(0);
  });

  it('answer the other operations when one fails, with HTTP 200 and the failure in its own slot', async () => {
    const res = await sendBatch(stack.gatewayUrl, [
      { query: CATEGORIES },
      { query: '{ categories { nope } }' },
      { query: 'query($id: ID!) { product(id: $id) { id } }', variables: { id: '00000000-0000-4000-8000-000000000000' } },
    ]);
    expect(res.status).toBe(200);
    expect(res.results).toHaveLength(3);
    expect(res.results![0]!.data?.categories.length).toBeGreaterThan(0);
    expect(res.results![1]!.data).toBeUndefined();
    expect(res.results![1]!.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // An unknown product is a null, not an error.
    expect(res.results![2]!.errors).toBeUndefined();
    expect(res.results![2]!.data).toEqual({ product: null });
  });

  it('over the maximum size are refused whole, naming the maximum, and run nothing', async () => {
    const emails = Array.from({ length: MAX_OPERATIONS + 1 }, (_, i) => `size-${i}@example.com`);
    const res = await sendBatch(stack.gatewayUrl, emails.map(register));
    expectRefusedWhole(res, 'BAD_REQUEST', new RegExp(`Batch size limit of ${MAX_OPERATIONS} operations exceeded, found ${MAX_OPERATIONS + 1}`));
    for (const email of emails) expect(await userExists(email)).toBe(false);
  });

  it('whose summed cost is over the cost limit are refused whole, though each operation is under it', async () => {
    const cost = costOf(PAGE.query, PAGE.variables);
    expect(cost).toBeLessThanOrEqual(COST_LIMIT);
    expect((await sendBatch(stack.gatewayUrl, [PAGE])).results?.[0]?.errors).toBeUndefined();
    const res = await sendBatch(stack.gatewayUrl, [PAGE, register('costly@example.com'), PAGE]);
    expectRefusedWhole(res, 'GRAPHQL_VALIDATION_FAILED', new RegExp(`Query cost limit of ${COST_LIMIT} per batch exceeded, found \\d+`));
    expect(Number(/found (\d+)/.exec(res.errors![0]!.message)![1])).toBeGreaterThanOrEqual(2 * cost);
    expect(await userExists('costly@example.com')).toBe(false);
  });

  it('with two logins are refused whole: one password check per request', async () => {
    const [alice, bob] = DEMO_ACCOUNTS.slice(1);
    const res = await sendBatch(stack.gatewayUrl, [login(alice!.email, alice!.password), login(bob!.email, bob!.password)]);
    expectRefusedWhole(res, 'GRAPHQL_VALIDATION_FAILED', /Login and register limit of 1 per batch exceeded, found 2/);
    const registers = await sendBatch(stack.gatewayUrl, [login(alice!.email, alice!.password), register('second-check@example.com')]);
    expectRefusedWhole(registers, 'GRAPHQL_VALIDATION_FAILED', /Login and register limit of 1 per batch exceeded, found 2/);
    expect(await userExists('second-check@example.com')).toBe(false);
    // One login in a batch is what a single request may do.
    const one = await sendBatch(stack.gatewayUrl, [login(alice!.email, alice!.password), { query: CATEGORIES }]);
    expect(one.results?.[0]?.data?.login.token).toEqual(expect.any(String));
  });

  it('are malformed when an entry is not a request object, and refused whole', async () => {
    const res = await sendBatch(stack.gatewayUrl, [register('malformed@example.com'), 'not an operation']);
    expectRefusedWhole(res, 'BAD_REQUEST', /Batch entry 1 is not a GraphQL request/);
    expect(await userExists('malformed@example.com')).toBe(false);
  });

  describe('under OPERATIONS=manifest (production)', () => {
    it('run a batch of two of the manifest\'s ids', async () => {
      const res = await sendBatch(production.url, [
        { extensions: byHash(persisted('ProductList').id), variables: { first: 2 } },
        { extensions: byHash(persisted('Categories').id) },
      ]);
      expect(res.status).toBe(200);
      expect(res.results?.map((r) => r.errors)).toEqual([undefined, undefined]);
      expect(res.results![0]!.data?.products.edges).toHaveLength(2);
      expect(res.results![1]!.data?.categories.length).toBeGreaterThan(0);
    });

    it('refuse a free-form operation in its own slot, run the others, and let the refused one change nothing', async () => {
      const res = await sendBatch(production.url, [
        { extensions: byHash(persisted('Categories').id) },
        register('free-form@example.com'),
        { query: persisted('Categories').body },
      ]);
      expect(res.status).toBe(200);
      expect(res.results).toHaveLength(3);
      expect(res.results![0]!.data?.categories.length).toBeGreaterThan(0);
      expect(res.results![1]!.data).toBeUndefined();
      expect(res.results![1]!.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      // The manifest's exact text runs, as it does alone.
      expect(res.results![2]!.errors).toBeUndefined();
      expect(res.results![2]!.data?.categories.length).toBeGreaterThan(0);
      expect(await userExists('free-form@example.com')).toBe(false);
    });

    it('answer an unknown id in its own slot', async () => {
      const res = await sendBatch(production.url, [{ extensions: byHash('0'.repeat(64)) }, { extensions: byHash(persisted('Categories').id) }]);
      expect(res.status).toBe(200);
      expect(res.results![0]!.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(res.results![1]!.data?.categories.length).toBeGreaterThan(0);
    });
  });

  it('from Apollo Client\'s BatchHttpLink: two queries go in one HTTP request and both are answered', async () => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests += 1;
      return fetch(input, init);
    };
    const client = new ApolloClient({
      link: new BatchHttpLink({ uri: stack.gatewayUrl, fetch: counting, batchMax: MAX_OPERATIONS, batchInterval: 20 }),
      cache: new InMemoryCache(),
    });
    const [products, categories] = await Promise.all([
      client.query<{ products: { edges: { node: { id: string } }[] } }>({ query: gql(PRODUCTS), variables: { first: 2 } }),
      client.query<{ categories: { id: string }[] }>({ query: gql(CATEGORIES) }),
    ]);
    expect(requests).toBe(1);
    expect(products.data?.products.edges).toHaveLength(2);
    expect(categories.data?.categories.length).toBeGreaterThan(0);
    client.stop();
  });
});
