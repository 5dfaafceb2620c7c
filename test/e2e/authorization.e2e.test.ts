// The access rules of the subgraph schemas (@authenticated, @requiresScopes, @policy), enforced by
// the gateway before it plans (gateway/features/authorization.ts): a field the caller may not read
// answers null with an access error at its path (UNAUTHENTICATED or FORBIDDEN, reason
// UNAUTHORIZED_FIELD_OR_TYPE), the rest of the operation is answered,
// and no subgraph is called for it (counted at the subgraphs); AUTHORIZATION_REJECT_UNAUTHORIZED
// refuses the whole operation instead; a batch and a subscription get the same rules; the
// subgraphs still refuse a request sent to them directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subgraphCalls } from '../support/subgraph-calls.js';
import { startGateway } from '../../gateway/server.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { gatewayConfig, graphql, sendBatch, startStack, userToken, type Stack } from '../support/harness.js';

const [, alice] = DEMO_ACCOUNTS;
const UNAUTHORIZED = 'UNAUTHORIZED_FIELD_OR_TYPE';

const unauthorizedPaths = (errors: { path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] | undefined) =>
  (errors ?? []).filter((e) => e.extensions?.reason === UNAUTHORIZED).map((e) => e.path);

describe('access rules at the gateway', () => {
  let stack: Stack;
  let aliceToken: string;
  let aliceId: string;
  let productId: string;

  beforeAll(async () => {
    stack = await startStack('pglite', { gateway: { batching: { maxOperations: 5 } } });
    aliceToken = await stack.login(alice.email, alice.password);
    aliceId = (await stack.request('{ me { id } }', {}, aliceToken)).data!.me.id;
    productId = (await stack.request('{ products(first: 1) { edges { node { id } } } }')).data!.products.edges[0].node.id;
  });
  afterAll(() => stack?.stop());

  it('answers a public field and nulls an owner-only one, with the error at its path, for an anonymous caller', async () => {
    const res = await stack.request('query AnonEmail($id: ID!) { user(id: $id) { name email } }', { id: aliceId });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ user: { name: alice.name, email: null } });
    expect(res.errors).toEqual([{ message: 'Unauthorized field or type', path: ['user', 'email'], extensions: { code: 'UNAUTHENTICATED', reason: UNAUTHORIZED } }]);
  });

  it('calls no subgraph for a denied field: anonymous orders are never asked of the orders subgraph', async () => {
    const res = await stack.request('query AnonOrders($id: ID!) { user(id: $id) { name orders { totalCount } } }', { id: aliceId });
    expect(res.data).toEqual({ user: { name: alice.name, orders: null } });
    expect(unauthorizedPaths(res.errors)).toEqual([['user', 'orders']]);
    expect(await subgraphCalls('AnonOrders')).toEqual({ users: 1, catalog: 0, orders: 0, reviews: 0 });
    // The same operation with a token reaches the orders subgraph.
    const mine = await stack.request('query MyOrders($id: ID!) { user(id: $id) { name orders { totalCount } } }', { id: aliceId }, aliceToken);
    expect(mine.errors).toBeUndefined();
    expect(await subgraphCalls('MyOrders')).toEqual({ users: 1, catalog: 0, orders: 1, reviews: 0 });
  });

  it('reports a denied field inside lists once, with @ for the items, and nulls it in every item', async () => {
    const res = await stack.request(
      'query ReviewAuthors { products(first: 3) { edges { node { id reviews(first: 2) { edges { node { author { name email } } } } } } } }',
    );
    expect(unauthorizedPaths(res.errors)).toEqual([['products', 'edges', '@', 'node', 'reviews', 'edges', '@', 'node', 'author', 'email']]);
    const authors = res.data!.products.edges.flatMap((e: any) => e.node.reviews.edges.map((r: any) => r.node.author));
    expect(authors.length).toBeGreaterThan(0);
    for (const author of authors) expect(author).toEqual({ name: expect.any(String), email: null });
  });

  it('answers null at the nearest nullable parent for a denied non-null field, and runs nothing when every root field is denied', async () => {
    const res = await stack.request(
      'mutation AnonCreate { createProduct(input: { sku: "X-1", name: "x", price: 1, stock: 1, weightGrams: 1, categoryId: "c" }) { id } }',
    );
    expect(res.data).toBeNull();
    expect(unauthorizedPaths(res.errors)).toEqual([['createProduct']]);
    expect(await subgraphCalls('AnonCreate')).toEqual({ users: 0, catalog: 0, orders: 0, reviews: 0 });
    expect(await stack.catalog.db.client.product.count({ where: { sku: 'X-1' } })).toBe(0);
  });

  it('requires the scope a role grants: a customer may review and order but not administer the catalog', async () => {
    const res = await stack.request(
      'mutation CustomerAdjust($id: ID!) { adjustStock(productId: $id, delta: 5) { stock } }',
      { id: productId },
      aliceToken,
    );
    expect(res.data).toBeNull();
    expect(unauthorizedPaths(res.errors)).toEqual([['adjustStock']]);
    expect(await subgraphCalls('CustomerAdjust')).toEqual({ users: 0, catalog: 0, orders: 0, reviews: 0 });
    const admin = await userToken({ id: 'test-admin', role: 'ADMIN' });
    const allowed = await stack.request('mutation AdminAdjust($id: ID!) { adjustStock(productId: $id, delta: 1) { id } }', { id: productId }, admin);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!.adjustStock.id).toBe(productId);
  });

  it('lets login answer the account it logs in (its email), though the request carries no token', async () => {
    const res = await stack.request('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { email } } }', { e: alice.email, p: alice.password });
    expect(res.errors).toBeUndefined();
    expect(res.data!.login.user.email).toBe(alice.email);
  });

  it('removes denied fields reached through fragments, and keeps the fragment for the fields still allowed', async () => {
    const res = await stack.request(
      'query FragmentUser($id: ID!) { user(id: $id) { ...Who } again: user(id: $id) { ...Who } } fragment Who on User { name email orders { totalCount } }',
      { id: aliceId },
    );
    expect(res.data).toEqual({ user: { name: alice.name, email: null, orders: null }, again: { name: alice.name, email: null, orders: null } });
    expect(unauthorizedPaths(res.errors)).toEqual([
      ['user', 'email'],
      ['user', 'orders'],
      ['again', 'email'],
      ['again', 'orders'],
    ]);
    expect((await subgraphCalls('FragmentUser')).orders).toBe(0);
  });

  it('applies the same rules to each operation of a batch', async () => {
    const batch = await sendBatch(stack.gatewayUrl, [
      { query: 'query BatchEmail($id: ID!) { user(id: $id) { name email } }', variables: { id: aliceId } },
      { query: '{ categories { id } }' },
    ]);
    expect(batch.status).toBe(200);
    expect(batch.results![0]!.data).toEqual({ user: { name: alice.name, email: null } });
    expect(unauthorizedPaths(batch.results![0]!.errors)).toEqual([['user', 'email']]);
    expect(batch.results![1]!.errors).toBeUndefined();
  });

  it('still refuses a request sent straight to a subgraph (its own checks, the second line)', async () => {
    const direct = await graphql(stack.urls.catalog, 'mutation($id: ID!) { adjustStock(productId: $id, delta: 5) { stock } }', { id: productId }, aliceToken);
    expect(direct.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const orders = await graphql(stack.urls.orders, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { orders { totalCount } } } }', {
      r: [{ __typename: 'User', id: aliceId }],
    });
    expect(orders.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("never answers one caller from the response cache with what another caller's access gave", async () => {
    const cached = await startGateway(gatewayConfig(stack.urls, { responseCache: { enabled: true, redis: undefined } }));
    try {
      const query = 'query CachedEmail($id: ID!) { user(id: $id) { name email } }';
      const admin = await userToken({ id: 'test-admin', role: 'ADMIN' });
      for (let round = 0; round < 2; round++) {
        const anonymous = await graphql(cached.url, query, { id: aliceId });
        expect(anonymous.data).toEqual({ user: { name: alice.name, email: null } });
        expect(unauthorizedPaths(anonymous.errors)).toEqual([['user', 'email']]);
        const asAdmin = await graphql(cached.url, query, { id: aliceId }, admin);
        expect(asAdmin.errors).toBeUndefined();
        expect(asAdmin.data).toEqual({ user: { name: alice.name, email: alice.email } });
      }
    } finally {
      await cached.close();
    }
  });

  describe('with AUTHORIZATION_REJECT_UNAUTHORIZED', () => {
    let strict: RunningServer;
    beforeAll(async () => {
      strict = await startGateway(gatewayConfig(stack.urls, { rejectUnauthorized: true }));
    });
    afterAll(() => strict?.close());

    it('refuses the whole operation naming the denied paths (HTTP 401 without a token), calling no subgraph', async () => {
      const res = await graphql(strict.url, 'query StrictEmail($id: ID!) { user(id: $id) { name email } }', { id: aliceId });
      expect(res.status).toBe(401);
      expect(res.data?.user).toBeUndefined();
      expect(res.errors).toEqual([
        { message: 'Unauthorized field or type at user.email', extensions: { code: 'UNAUTHENTICATED', reason: UNAUTHORIZED, paths: [['user', 'email']] } },
      ]);
      expect(await subgraphCalls('StrictEmail')).toEqual({ users: 0, catalog: 0, orders: 0, reviews: 0 });
    });

    it('answers an operation the caller may read in full', async () => {
      const res = await graphql(strict.url, 'query($id: ID!) { user(id: $id) { name email } }', { id: aliceId }, aliceToken);
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ user: { name: alice.name, email: alice.email } });
    });
  });
});
