// @defer through the gateway over raw HTTP, payload by payload: the first part arrives before a
// slowed subgraph answers, deferred parts arrive as their fetches finish, a failing subgraph costs
// its part only and the stream still ends cleanly, a client without multipart/mixed gets the
// undeferred result in one response, and bad inputs get clear errors.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache, type DocumentNode } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS_KEY_HEADER } from '../../gateway/features/trusted-documents.js';
import { startGateway } from '../../gateway/server.js';
import { DEFAULT_OPERATION_LIMITS } from '../../lib/security/operation-limits.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import type { UsageReport } from '../../lib/usage-report.js';
import { bearer, gatewayConfig, graphql, operation, send, startStack, userToken, type Stack } from '../support/harness.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { sendDeferred } from '../support/multipart.js';

/** How long the reviews subgraph is held in the timing tests. */
const REVIEWS_DELAY_MS = 600;

const PRODUCT_PAGE = `
  query Page($id: ID!) {
    product(id: $id) {
      id
      name
      price { amount currency }
      ... @defer(label: "shipping") { shippingEstimate { amount currency } }
      ... @defer(label: "reviews") {
        averageRating
        reviews(first: 3) { edges { node { id rating author { name } } } }
      }
    }
  }`;

const UNDEFERRED_PAGE = PRODUCT_PAGE.replace(/ @defer\(label: "\w+"\)/g, '');

describe('@defer through the gateway', () => {
  let stack: Stack;
  let proxy: DelayProxy;
  let gateway: RunningServer;
  let productId: string;

  beforeAll(async () => {
    stack = await startStack('pglite');
    // A second gateway reaching reviews through a proxy the tests slow down or break.
    proxy = await startDelayProxy(stack.urls.reviews);
    gateway = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }));
    const products = await graphql(gateway.url, '{ products(first: 20) { edges { node { id reviewCount } } } }');
    const withReviews = (products.data!.products.edges as { node: { id: string; reviewCount: number } }[]).find((e) => e.node.reviewCount > 0);
    productId = withReviews!.node.id;
  });
  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
    await stack?.stop();
  });

  /** Runs `run` with the reviews subgraph held REVIEWS_DELAY_MS per request; also gives when the first held request reached it. */
  const slowReviews = async <T,>(run: () => Promise<T>): Promise<T & { reviewsReached: number }> => {
    proxy.delayMs = REVIEWS_DELAY_MS;
    const from = proxy.forwarded.length;
    try {
      const result = await run();
      return Object.assign(result as object, { reviewsReached: proxy.forwarded[from]! }) as T & { reviewsReached: number };
    } finally {
      proxy.delayMs = 0;
    }
  };

  /** What an Apollo Client 4 watching `query` sees, result by result, until its data is complete. */
  const watch = async (client: ApolloClient, query: DocumentNode, variables: Record<string, unknown>) => {
    const started = performance.now();
    const seen: { at: number; arrived: number; dataState: string; data: any }[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = client.watchQuery({ query, variables, fetchPolicy: 'network-only' }).subscribe({
        next(result) {
          if (result.error) return reject(result.error);
          if (result.dataState === 'empty') return;
          seen.push({ at: performance.now() - started, arrived: performance.now(), dataState: result.dataState, data: result.data });
          if (result.dataState === 'complete') {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    return seen;
  };

  it('Apollo Client 4 (HttpLink, Defer20220824Handler) shows name and price while the slowed reviews are on their way, then the whole page', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: gateway.url }), cache: new InMemoryCache(), incrementalHandler: new Defer20220824Handler() });
    const { seen, reviewsReached } = await slowReviews(async () => ({ seen: await watch(client, gql(PRODUCT_PAGE), { id: productId }) }));
    const [first] = seen;
    expect(first!.dataState).toBe('streaming');
    expect(first!.data.product).toMatchObject({ id: productId, name: expect.any(String), price: { amount: expect.any(Number) } });
    expect(first!.data.product.reviews).toBeUndefined();
    // Shown before the reviews subgraph even received its request (held REVIEWS_DELAY_MS by the proxy).
    expect(first!.arrived).toBeLessThan(reviewsReached);
    const last = seen.at(-1)!;
    expect(last.dataState).toBe('complete');
    expect(last.arrived).toBeGreaterThan(reviewsReached);
    const plain = await graphql(gateway.url, UNDEFERRED_PAGE, { id: productId });
    const { __typename: _t, ...product } = last.data.product as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(product, (key, value) => (key === '__typename' ? undefined : value)))).toEqual(plain.data!.product);
  });

  it('sends name and price first, before the slowed reviews subgraph answers, then each deferred fragment in its own part', async () => {
    const res = await slowReviews(() => sendDeferred(gateway.url, { query: PRODUCT_PAGE, variables: { id: productId } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('multipart/mixed; boundary="-"; deferSpec=20220824');
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    expect(res.closed).toBe(true);
    const [first, ...rest] = res.payloads;
    expect(first!.body).toEqual({ data: { product: { id: productId, name: expect.any(String), price: { amount: expect.any(Number), currency: expect.any(String) } } }, hasNext: true });
    // The first part arrived before the reviews subgraph even received its request; the reviews part after.
    const reviewsPart = rest.find((p) => p.body.incremental?.some((i: { label?: string }) => i.label === 'reviews'))!;
    expect(first!.arrived).toBeLessThan(res.reviewsReached);
    expect(reviewsPart.arrived).toBeGreaterThan(res.reviewsReached);
    expect(reviewsPart.at).toBeGreaterThanOrEqual(REVIEWS_DELAY_MS);
    const items = rest.flatMap((p) => p.body.incremental ?? []);
    expect(items).toEqual(
      expect.arrayContaining([
        { label: 'shipping', path: ['product'], data: { shippingEstimate: { amount: expect.any(Number), currency: expect.any(String) } } },
        { label: 'reviews', path: ['product'], data: { averageRating: expect.any(Number), reviews: { edges: expect.any(Array) } } },
      ]),
    );
    expect(items).toHaveLength(2);
    // The shipping estimate (catalog and orders) came before the slowed reviews.
    const shippingPart = rest.find((p) => p.body.incremental?.some((i: { label?: string }) => i.label === 'shipping'))!;
    expect(shippingPart.at).toBeLessThan(reviewsPart.at);
    expect(rest.at(-1)!.body.hasNext).toBe(false);
    expect(rest.slice(0, -1).every((p) => p.body.hasNext === true)).toBe(true);
  });

  it('merges to the undeferred result: parts applied in order give exactly what the query without @defer returns', async () => {
    const [deferred, plain] = await Promise.all([
      sendDeferred(gateway.url, { query: PRODUCT_PAGE, variables: { id: productId } }),
      graphql(gateway.url, UNDEFERRED_PAGE, { id: productId }),
    ]);
    const merged = structuredClone(deferred.payloads[0]!.body.data);
    for (const { body } of deferred.payloads.slice(1)) {
      for (const item of body.incremental ?? []) {
        let target = merged;
        for (const key of item.path) target = target[key];
        Object.assign(target, item.data);
      }
    }
    expect(plain.errors).toBeUndefined();
    expect(merged).toEqual(plain.data);
  });

  it('answers a client that does not accept multipart/mixed with the whole result in one JSON response', async () => {
    const [whole, plain] = await Promise.all([
      send(gateway.url, { query: PRODUCT_PAGE, variables: { id: productId } }),
      graphql(gateway.url, UNDEFERRED_PAGE, { id: productId }),
    ]);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^application\/json/);
    expect(whole.errors).toBeUndefined();
    expect(whole.data).toEqual(plain.data);
    expect(JSON.stringify(whole.data)).toBe(JSON.stringify(plain.data)); // same field order too
  });

  it('delivers a fragment deferred inside a list once per item, and a fragment nested in a deferred one after it', async () => {
    const res = await sendDeferred(gateway.url, {
      query: `query Nested($id: ID!) { product(id: $id) { name ... @defer(label: "reviews") { reviews(first: 2) { edges { node { id ... @defer(label: "author") { author { name } } } } } } } }`,
      variables: { id: productId },
    });
    const items = res.payloads.slice(1).flatMap((p) => p.body.incremental ?? []);
    const reviews = items.filter((i) => i.label === 'reviews');
    const authors = items.filter((i) => i.label === 'author');
    expect(reviews).toHaveLength(1);
    const edges = reviews[0].data.reviews.edges as unknown[];
    expect(authors).toHaveLength(edges.length);
    expect(authors.map((a) => a.path)).toEqual(edges.map((_, i) => ['product', 'reviews', 'edges', i, 'node']));
    for (const a of authors) expect(a.data).toEqual({ author: { name: expect.any(String) } });
    // The nested part never comes before the part it is deferred in.
    const at = (label: string) => res.payloads.findIndex((p) => p.body.incremental?.some((i: { label?: string }) => i.label === label));
    expect(at('author')).toBeGreaterThanOrEqual(at('reviews'));
    expect(res.payloads.at(-1)!.body.hasNext).toBe(false);
  });

  it('defers an unlabelled fragment and a named fragment spread, without a label in their parts', async () => {
    const res = await sendDeferred(gateway.url, {
      query: `query Spread($id: ID!) { product(id: $id) { id ...Rating @defer ... @defer { reviewCount } } } fragment Rating on Product { averageRating }`,
      variables: { id: productId },
    });
    expect(res.payloads[0]!.body).toEqual({ data: { product: { id: productId } }, hasNext: true });
    const items = res.payloads.slice(1).flatMap((p) => p.body.incremental ?? []);
    expect(items).toEqual(
      expect.arrayContaining([
        { path: ['product'], data: { averageRating: expect.any(Number) } },
        { path: ['product'], data: { reviewCount: expect.any(Number) } },
      ]),
    );
  });

  it('follows @defer(if: $variable): deferred when true, in the first part when false', async () => {
    const query = `query If($id: ID!, $later: Boolean!) { product(id: $id) { id ... @defer(if: $later, label: "count") { reviewCount } } }`;
    const deferred = await sendDeferred(gateway.url, { query, variables: { id: productId, later: true } });
    expect(deferred.payloads[0]!.body).toEqual({ data: { product: { id: productId } }, hasNext: true });
    const now = await sendDeferred(gateway.url, { query, variables: { id: productId, later: false } });
    expect(now.payloads).toHaveLength(1);
    expect(now.payloads[0]!.body).toEqual({ data: { product: { id: productId, reviewCount: expect.any(Number) } }, hasNext: false });
  });

  it('sends no deferred data for a product that is not there, and ends the stream', async () => {
    const res = await sendDeferred(gateway.url, { query: PRODUCT_PAGE, variables: { id: 'no-such-product' } });
    expect(res.payloads[0]!.body.data).toEqual({ product: null });
    expect(res.payloads.flatMap((p) => p.body.incremental ?? [])).toEqual([]);
    expect(res.payloads.at(-1)!.body.hasNext).toBe(false);
    expect(res.closed).toBe(true);
  });

  it('keeps the parts already sent when the reviews subgraph fails in a deferred part: the error is on that part, and the stream ends cleanly', async () => {
    proxy.failure = 'reset';
    let res;
    try {
      res = await sendDeferred(gateway.url, { query: PRODUCT_PAGE, variables: { id: productId } });
    } finally {
      proxy.failure = undefined;
    }
    expect(res.status).toBe(200);
    expect(res.closed).toBe(true);
    expect(res.payloads[0]!.body.data.product.name).toEqual(expect.any(String));
    expect(res.payloads[0]!.body.errors).toBeUndefined();
    const items = res.payloads.slice(1).flatMap((p) => p.body.incremental ?? []);
    const shipping = items.find((i) => i.label === 'shipping');
    expect(shipping.errors).toBeUndefined();
    const reviews = items.find((i) => i.label === 'reviews');
    expect(reviews.errors).toEqual([expect.objectContaining({ message: 'the reviews service is unavailable, try again later', extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) })]);
    expect(reviews.data).toEqual({ averageRating: null, reviews: null });
    expect(res.raw).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(res.payloads.at(-1)!.body.hasNext).toBe(false);
  });

  it('ends cleanly when the reviews subgraph does not answer within the subgraph timeout', async () => {
    const impatient = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }, { subgraphTimeoutMs: 300 }));
    try {
      const res = await slowReviews(() => sendDeferred(impatient.url, { query: PRODUCT_PAGE, variables: { id: productId } }));
      expect(res.closed).toBe(true);
      expect(res.payloads[0]!.body.data.product.name).toEqual(expect.any(String));
      const reviews = res.payloads.flatMap((p) => p.body.incremental ?? []).find((i) => i.label === 'reviews');
      expect(reviews.errors[0].message).toBe('the reviews service did not answer in time, try again later');
      expect(res.payloads.at(-1)!.body.hasNext).toBe(false);
    } finally {
      await impatient.close();
    }
  });

  it('runs the web shop\'s product page operation unchanged for clients that send it without @defer', async () => {
    const res = await graphql(gateway.url, operation('ProductDetail'), { id: productId });
    expect(res.errors).toBeUndefined();
    expect(res.data!.product.id).toBe(productId);
  });

  describe('bad inputs get clear errors and run nothing', () => {
    const refused = async (query: string, variables: Record<string, unknown> = {}) => {
      const before = proxy.requests;
      const res = await send(gateway.url, { query, variables }, { headers: { accept: 'multipart/mixed;deferSpec=20220824,application/json' } });
      expect(proxy.requests).toBe(before);
      return res;
    };

    it('refuses @defer in a mutation', async () => {
      const res = await refused('mutation { login(email: "a@b.c", password: "whatever1") { ... @defer { token } } }');
      expect(res.status).toBe(400);
      expect(res.errors![0]).toMatchObject({ message: expect.stringContaining('@defer is served on queries only'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    });

    it('refuses @defer in a subscription', async () => {
      const res = await refused('subscription { productUpdated(ids: ["x"]) { id ... @defer { name } } }');
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toContain('@defer is served on queries only');
    });

    it('refuses a label used twice', async () => {
      const res = await refused('{ products(first: 1) { edges { node { ... @defer(label: "a") { name } ... @defer(label: "a") { sku } } } } }');
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toBe('The @defer label "a" is used twice: each deferred fragment needs its own label.');
    });

    it('refuses a label given by a variable', async () => {
      const res = await refused('query($l: String) { products(first: 1) { edges { node { ... @defer(label: $l) { name } } } } }', { l: 'x' });
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toBe('The label of @defer must be a string written in the operation, not a variable.');
    });

    it('refuses @defer(if:) given a non-boolean variable', async () => {
      const res = await refused('query($later: String) { products(first: 1) { edges { node { ... @defer(if: $later) { name } } } } }', { later: 'yes' });
      expect(res.status).toBe(400);
      expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors![0]!.message).toContain('$later');
    });

    it('refuses a missing or mistyped variable, as for any operation', async () => {
      const query = 'query($id: ID!, $n: Int) { product(id: $id) { id ... @defer { reviews(first: $n) { totalCount } } } }';
      const missing = await refused(query, {});
      expect(missing.status).toBe(400);
      expect(missing.errors![0]).toMatchObject({ message: 'Variable "$id" of required type "ID!" was not provided.', extensions: { code: 'BAD_USER_INPUT' } });
      const mistyped = await refused(query, { id: 'x', n: 'ten' });
      expect(mistyped.status).toBe(400);
      expect(mistyped.errors![0]!.message).toContain('Int cannot represent non-integer value: "ten"');
    });

    it('leaves a GET without what CSRF prevention asks (a JSON content type or a preflight header) to Apollo Server, which refuses it', async () => {
      const before = proxy.requests;
      const url = new URL(gateway.url);
      url.searchParams.set('query', `{ product(id: "${productId}") { id ... @defer { reviewCount } } }`);
      const res = await fetch(url, { headers: { accept: 'multipart/mixed;deferSpec=20220824,application/json' } });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('CSRF');
      expect(proxy.requests).toBe(before);
      // With the header Apollo Client sends, the same GET runs in parts.
      const allowed = await fetch(url, { headers: { accept: 'multipart/mixed;deferSpec=20220824,application/json', 'apollo-require-preflight': 'true' } });
      expect(allowed.headers.get('content-type')).toContain('multipart/mixed');
      expect(await allowed.text()).toContain('"reviewCount"');
    });

    it('refuses @defer on a field', async () => {
      const res = await refused('{ products(first: 1) { edges { node { name @defer } } } }');
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toBe('Directive "@defer" may not be used on FIELD.');
    });

    it('refuses an unknown field in a deferred fragment', async () => {
      const res = await refused('{ products(first: 1) { edges { node { ... @defer { colour } } } } }');
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toBe('Cannot query field "colour" on type "Product".');
    });
  });

  describe('a deferred operation is checked and counted like any other', () => {
    const multipart = { accept: 'multipart/mixed;deferSpec=20220824,application/json' };

    it('counts the deferred fragments in the cost: refused with the figure of the same query without @defer', async () => {
      const strict = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }, { limits: { ...DEFAULT_OPERATION_LIMITS, cost: 150 } }));
      try {
        const primaryOnly = '{ products(first: 40) { edges { node { id } } } }';
        const deferred = '{ products(first: 40) { edges { node { id ... @defer { name sku } } } } }';
        expect((await send(strict.url, { query: primaryOnly })).errors).toBeUndefined();
        const refused = await send(strict.url, { query: deferred }, { headers: multipart });
        const plain = await send(strict.url, { query: deferred.replace(' @defer', '') });
        expect(refused.status).toBe(400);
        expect(refused.errors![0]).toMatchObject({ message: expect.stringMatching(/^Query cost limit of 150 exceeded, found \d+\.$/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
        expect(refused.errors![0]!.message).toBe(plain.errors![0]!.message);
      } finally {
        await strict.close();
      }
    });

    it('holds a deferred query to the access rules: one selecting a field the caller may not read is refused whole, before any subgraph is called', async () => {
      const reached = proxy.forwarded.length;
      const query = '{ products(first: 1) { edges { node { id ... @defer { reviews(first: 1) { edges { node { author { email } } } } } } } } }';
      const refused = await send(gateway.url, { query }, { headers: multipart });
      expect(refused.status).toBe(401);
      expect(refused.errors).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' }) }),
      ]);
      expect(refused.errors![0]!.message).toContain('author.email');
      expect(proxy.forwarded.length).toBe(reached);
    });

    it('spends the cost budget like any query: past it, TOO_MANY_REQUESTS with Retry-After and nothing run', async () => {
      const query = '{ products(first: 2) { edges { node { id ... @defer { name } } } } }';
      const cost = (await send(gateway.url, { query: query.replace(' @defer', '') }, { headers: { 'x-operation-cost': 'true' } })).extensions!.cost as { estimated: number };
      const budgeted = await startGateway(
        gatewayConfig({ ...stack.urls, reviews: proxy.url }, { costBudget: { points: cost.estimated * 2, adminPoints: 1e12, servicePoints: 1e12, windowSeconds: 60, key: 'viewer', redis: undefined } }),
      );
      try {
        for (let i = 0; i < 2; i++) expect((await sendDeferred(budgeted.url, { query })).payloads.at(-1)!.body.hasNext).toBe(false);
        const refused = await send(budgeted.url, { query }, { headers: multipart });
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(refused.errors![0]!.extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: expect.any(Number) });
      } finally {
        await budgeted.close();
      }
    });

    it('is never served from, nor stored in, the response cache: every request reaches the subgraphs, and says no-store', async () => {
      const cached = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }, { responseCache: { enabled: true, redis: undefined } }));
      try {
        const query = `query Cached($id: ID!) { product(id: $id) { id ... @defer { reviewCount } } }`;
        for (const accept of ['application/json', 'multipart/mixed;deferSpec=20220824,application/json']) {
          for (let i = 0; i < 2; i++) {
            const before = proxy.requests;
            const res = await fetch(cached.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query, variables: { id: productId } }) });
            expect(res.status).toBe(200);
            expect(res.headers.get('cache-control')).toBe('no-store');
            await res.text();
            expect(proxy.requests, `${accept}, request ${i + 1}`).toBe(before + 1);
          }
        }
        // The same read undeferred is cached: the second one does not reach reviews.
        const plain = `query Cached($id: ID!) { product(id: $id) { id reviewCount } }`;
        await send(cached.url, { query: plain, variables: { id: productId } });
        const before = proxy.requests;
        const again = await send(cached.url, { query: plain, variables: { id: productId } });
        expect(again.errors).toBeUndefined();
        expect(proxy.requests).toBe(before);
      } finally {
        await cached.close();
      }
    });

    it('applies the depth limit through deferred fragments', async () => {
      const shallow = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }, { limits: { ...DEFAULT_OPERATION_LIMITS, depth: 3 } }));
      try {
        const res = await send(shallow.url, { query: '{ products(first: 1) { edges { node { ... @defer { category { name } } } } } }' }, { headers: multipart });
        expect(res.status).toBe(400);
        expect(res.errors![0]!.message).toMatch(/depth/i);
      } finally {
        await shallow.close();
      }
    });

    it('records usage by client and the request metrics', async () => {
      const client = { 'apollographql-client-name': 'defer-probe', 'apollographql-client-version': '1.0.0' };
      const res = await sendDeferred(gateway.url, { query: PRODUCT_PAGE.replace('query Page', 'query UsageProbe'), variables: { id: productId } }, client);
      expect(res.payloads.at(-1)!.body.hasNext).toBe(false);
      const admin = await userToken({ id: 'admin-1', role: 'ADMIN' });
      const report = (await (await fetch(gateway.url.replace(/\/graphql$/, '/usage'), { headers: bearer(admin) })).json()) as UsageReport;
      const usage = report.clients.find((c) => c.name === 'defer-probe')!;
      expect(usage.operations).toEqual({ UsageProbe: 1 });
      // Its cost, estimated before anything ran and actual from the merged parts, as for any operation.
      expect(usage.cost?.estimated).toMatchObject({ count: 1 });
      expect(usage.cost?.actual).toMatchObject({ count: 1 });
      expect(usage.cost!.actual.sum).toBeGreaterThan(1);
      expect(usage.cost!.actual.sum).toBeLessThanOrEqual(usage.cost!.estimated.sum);
      // The deferred fragments' fields are used like the others.
      expect(Object.keys(usage.fields)).toEqual(expect.arrayContaining(['Query.product', 'Product.name', 'Product.shippingEstimate', 'Product.averageRating', 'Review.rating', 'User.name']));
      const metrics = await (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).text();
      expect(metrics).toMatch(/^graphql_requests_total\{operation_name="UsageProbe",operation_type="query",service="gateway"\} 1$/m);
      expect(metrics).toMatch(/^gateway_deferred_parts_total\{operation_name="UsageProbe",part="initial",service="gateway"\} 1$/m);
      expect(metrics).toMatch(/^gateway_deferred_parts_total\{operation_name="UsageProbe",part="subsequent",service="gateway"\} [1-9]/m);
      expect(metrics).toMatch(/^gateway_deferred_first_payload_seconds_count\{[^}]*operation_name="UsageProbe"[^}]*\} 1$/m);
      for (const kind of ['estimated', 'actual']) {
        expect(metrics).toMatch(new RegExp(`^gateway_operation_cost_count\\{(?=[^}]*client_name="defer-probe")(?=[^}]*kind="${kind}")[^}]*\\} 1$`, 'm'));
      }
    });

    describe('under the manifest policy of trusted documents', () => {
      const MANIFEST_OPERATION = 'query DeferredCount($id: ID!) {\n  product(id: $id) {\n    id\n    ... @defer(label: "count") {\n      reviewCount\n    }\n  }\n}';
      const id = createHash('sha256').update(MANIFEST_OPERATION).digest('hex');
      const ADMIN_KEY = 'k'.repeat(40);
      let dir: string;
      let strict: RunningServer;

      beforeAll(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'defer-manifest-'));
        const manifestPath = path.join(dir, 'manifest.json');
        await writeFile(manifestPath, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id, name: 'DeferredCount', type: 'query', body: MANIFEST_OPERATION }] }));
        strict = await startGateway(gatewayConfig({ ...stack.urls, reviews: proxy.url }, { trustedDocuments: { policy: 'manifest', manifestPath, adminKey: ADMIN_KEY } }));
      });
      afterAll(async () => {
        await strict?.close();
        await rm(dir, { recursive: true, force: true });
      });

      it('runs the manifest\'s deferred operation by its id, in parts', async () => {
        const res = await sendDeferred(strict.url, { extensions: { persistedQuery: { version: 1, sha256Hash: id } }, variables: { id: productId } });
        expect(res.payloads.map((p) => p.body)).toEqual([
          { data: { product: { id: productId } }, hasNext: true },
          { incremental: [{ label: 'count', path: ['product'], data: { reviewCount: expect.any(Number) } }], hasNext: false },
        ]);
      });

      it('runs it for Apollo Client sending the id by GET (PersistedQueryLink, as the web shop does), in parts', async () => {
        const manifest = { format: 'apollo-persisted-query-manifest' as const, version: 1 as const, operations: [{ id, name: 'DeferredCount', type: 'query' as const, body: MANIFEST_OPERATION }] };
        const persisted = new PersistedQueryLink({ ...generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }), useGETForHashedQueries: true });
        const methods: string[] = [];
        const fetchSpy: typeof fetch = (input, init) => {
          methods.push(init?.method ?? 'GET');
          return fetch(input, init);
        };
        const client = new ApolloClient({
          link: ApolloLink.from([persisted, new HttpLink({ uri: strict.url, fetch: fetchSpy })]),
          cache: new InMemoryCache(),
          incrementalHandler: new Defer20220824Handler(),
        });
        const seen = await watch(client, gql(MANIFEST_OPERATION), { id: productId });
        expect(methods).toEqual(['GET']);
        expect(seen[0]!.dataState).toBe('streaming');
        expect(seen.at(-1)).toMatchObject({ dataState: 'complete', data: { product: { id: productId, reviewCount: expect.any(Number) } } });
      });

      it('runs it by its exact text', async () => {
        const res = await sendDeferred(strict.url, { query: MANIFEST_OPERATION, variables: { id: productId } });
        expect(res.payloads).toHaveLength(2);
      });

      it('refuses a deferred operation that is not in the manifest, before running anything; the operations key lets it through', async () => {
        const query = '{ products(first: 1) { edges { node { id ... @defer { name } } } } }';
        const before = proxy.requests;
        const res = await send(strict.url, { query }, { headers: multipart });
        expect(res.status).toBe(400);
        expect(res.errors![0]!.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
        expect(proxy.requests).toBe(before);
        const allowed = await sendDeferred(strict.url, { query }, { [OPERATIONS_KEY_HEADER]: ADMIN_KEY });
        expect(allowed.payloads.at(-1)!.body.hasNext).toBe(false);
        expect(allowed.payloads[0]!.body.data.products.edges).toHaveLength(1);
      });
    });
  });
});
