// Cacheable reads: a public catalog read sent as GET by persisted id comes back with the
// Cache-Control the subgraphs' @cacheControl hints give (the gateway keeps the most restrictive of
// its subgraph calls); anything about the viewer, and every mutation, is no-store; GET never runs
// a mutation; CSRF prevention still holds for GET.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startStack, userToken, type Stack } from '../support/harness.js';
import { bearer, byHash, persisted, send } from '../support/persisted-requests.js';

/** What Apollo Client sends on every request, GET included: it makes a browser preflight, which Apollo Server's CSRF prevention asks for. */
const APOLLO_CLIENT_HEADERS = { 'content-type': 'application/json' };

describe('cacheable reads', () => {
  let stack: Stack;
  let productId: string;
  const get = (name: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    send(stack.gatewayUrl, { operationName: name, variables, extensions: byHash(persisted(name).id) }, { method: 'GET', headers: { ...APOLLO_CLIENT_HEADERS, ...headers } });
  const stockOf = async (id: string) => (await stack.catalog.db.client.product.findUniqueOrThrow({ where: { id } })).stock;

  beforeAll(async () => {
    stack = await startStack('pglite');
    const list = await stack.request('{ products(first: 1) { edges { node { id } } } }');
    productId = list.data!.products.edges[0].node.id;
  });
  afterAll(() => stack?.stop());

  it('answers ProductList by GET with a public Cache-Control from the catalog and reviews hints', async () => {
    const res = await get('ProductList', { first: 5 });
    expect(res.errors).toBeUndefined();
    // Product is public for 60 s, its stock (inStock) for 30 s: the shortest wins.
    expect(res.headers.get('cache-control')).toBe('max-age=30, public');
  });

  it('answers ProductDetail (four subgraphs) by GET with a public Cache-Control, with or without a token', async () => {
    const customer = await userToken({ id: 'customer-1', role: 'CUSTOMER' });
    for (const headers of [{}, bearer(customer)]) {
      const res = await get('ProductDetail', { id: productId }, headers);
      expect(res.errors).toBeUndefined();
      expect(res.data?.product.shippingEstimate).not.toBeNull();
      expect(res.data?.product.reviews.edges.length).toBeGreaterThan(0);
      expect(res.headers.get('cache-control')).toBe('max-age=30, public');
    }
  });

  it('keeps categories public longer than products', async () => {
    const res = await graphql(stack.gatewayUrl, '{ categories { id name } }');
    expect(res.headers.get('cache-control')).toBe('max-age=300, public');
  });

  it('never lets a cache keep the viewer\'s data: Me and a user\'s email are no-store', async () => {
    const token = await stack.login('alice@example.com', 'demo-alice-1');
    const me = await get('Me', {}, bearer(token));
    expect(me.errors).toBeUndefined();
    expect(me.data?.me.email).toBe('alice@example.com');
    expect(me.headers.get('cache-control')).toBe('no-store');
    const email = await graphql(stack.gatewayUrl, `query($id: ID!) { user(id: $id) { name email } }`, { id: me.data!.me.id }, token);
    expect(email.headers.get('cache-control')).toBe('no-store');
    const name = await graphql(stack.gatewayUrl, `query($id: ID!) { user(id: $id) { name } }`, { id: me.data!.me.id });
    expect(name.headers.get('cache-control')).toBe('max-age=60, public');
  });

  it('never caches a mutation, even one that returns a product', async () => {
    const admin = await userToken({ id: 'admin-1', role: 'ADMIN' });
    const res = await graphql(stack.gatewayUrl, persisted('AdjustStock').body, { productId, delta: 1 }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a mutation sent by GET, by id or as text, and changes nothing', async () => {
    const admin = await userToken({ id: 'admin-1', role: 'ADMIN' });
    const before = await stockOf(productId);
    const byId = await get('AdjustStock', { productId, delta: 5 }, bearer(admin));
    expect(byId.status).toBe(405);
    expect(byId.data).toBeUndefined();
    const byText = await send(stack.gatewayUrl, { query: persisted('AdjustStock').body, variables: { productId, delta: 5 } }, { method: 'GET', headers: { ...APOLLO_CLIENT_HEADERS, ...bearer(admin) } });
    expect(byText.status).toBe(405);
    expect(await stockOf(productId)).toBe(before);
  });

  it('refuses a GET that a browser would send without a preflight (CSRF), and takes one with apollo-require-preflight', async () => {
    const request = { operationName: 'ProductList', variables: { first: 1 }, extensions: byHash(persisted('ProductList').id) };
    const simple = await send(stack.gatewayUrl, request, { method: 'GET' });
    expect(simple.status).toBe(400);
    expect(simple.errors?.[0]?.message).toMatch(/CSRF/);
    const preflighted = await send(stack.gatewayUrl, request, { method: 'GET', headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    expect(preflighted.headers.get('cache-control')).toBe('max-age=30, public');
  });

  it('does not cache an answer with errors', async () => {
    const res = await get('ProductDetail', { id: 'no-such-product' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('has each subgraph declare its own Cache-Control', async () => {
    const catalog = await graphql(stack.catalog.url, '{ categories { id } }');
    expect(catalog.headers.get('cache-control')).toBe('max-age=300, public');
    const orders = await graphql(stack.orders!.url, '{ _entities(representations: [{ __typename: "User", id: "x" }]) { ... on User { id } } }');
    expect(orders.headers.get('cache-control')).toBe('no-store');
  });
});
