// The gateway's front door: health, request ids, and bad requests that get a clear error and
// never take a process down.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { Tokens } from '../../lib/security/auth.js';
import { generateSigningKey } from '../../lib/security/keys.js';
import { localServiceUrl, SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { startSubgraph, type RunningSubgraph } from '../../lib/subgraph/server.js';
import type { UsersDb } from '../../subgraphs/users/db.js';
import { users } from '../../subgraphs/users/server.js';
import { freePort, gatewayConfig, graphql, leaksIn, operation, startStack, subgraphConfig, userToken, type Stack } from '../support/harness.js';

/** The answer as a client receives it: status, content type, the raw text and, when it is JSON, the body. */
async function send(url: string, init: RequestInit) {
  const response = await fetch(url, init);
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, type, text, body: type.startsWith('application/json') ? JSON.parse(text) : undefined };
}

const postJson = (payload: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });

const REGISTER = 'mutation Register { register(input: { email: "mallory@example.com", password: "mallory-pw-1", name: "Mallory" }) { token } }';

/** Requests a client gets wrong, each refused with HTTP 400 and a JSON error with this code. */
const CLIENT_MISTAKES: [string, RequestInit, string][] = [
  ['an unknown operationName', postJson({ query: REGISTER, operationName: 'Login' }), 'OPERATION_RESOLUTION_FAILURE'],
  ['two named operations and no operationName', postJson({ query: `${REGISTER} query Me { me { id } }` }), 'OPERATION_RESOLUTION_FAILURE'],
  ['two anonymous operations', postJson({ query: `{ me { id } } ${REGISTER.replace('Register', '')}` }), 'GRAPHQL_VALIDATION_FAILED'],
  ['a subscription', postJson({ query: 'subscription { productUpdated(ids: ["00000000-0000-4000-8000-000000000000"]) { id } }' }), 'BAD_REQUEST'],
  ['malformed JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query": ${JSON.stringify(REGISTER)}` }, 'BAD_REQUEST'],
  ['a text/plain POST', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: REGISTER }) }, 'BAD_REQUEST'],
  ['a POST without a body', { method: 'POST', headers: { 'content-type': 'application/json' } }, 'BAD_REQUEST'],
  ['a GET without a query', { method: 'GET', headers: { accept: 'application/json' } }, 'BAD_REQUEST'],
  ['a GET without a query, preflighted', { method: 'GET', headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } }, 'BAD_REQUEST'],
];

/** A URL that nothing listens on. */
const deadUrl = async () => `http://localhost:${await freePort()}/graphql`;

describe('the gateway', () => {
  let stack: Stack;
  let base: string;
  const logs: Record<string, unknown>[] = [];
  beforeAll(async () => {
    stack = await startStack('pglite', { logs });
    base = stack.gatewayUrl.replace(/\/graphql$/, '');
  });
  afterAll(() => stack?.stop());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers liveness and readiness probes', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    // The supergraph in use, by hash (gateway/features/supergraph.ts).
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: 'ready', supergraph: createHash('sha256').update(await readFile(SUPERGRAPH_PATH, 'utf8')).digest('hex').slice(0, 12) });
    expect((await fetch(`${stack.catalog.url.replace(/\/graphql$/, '')}/ready`)).status).toBe(200);
  });

  it('shows Apollo Sandbox to a browser in development', async () => {
    const page = await fetch(stack.gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('new window.EmbeddedSandbox');
  });

  it('keeps a sane request id from the caller and makes one otherwise', async () => {
    const kept = await post(JSON.stringify({ query: '{ __typename }' }), { 'x-request-id': 'trace-123' });
    expect(kept.headers.get('x-request-id')).toBe('trace-123');
    const made = await post(JSON.stringify({ query: '{ __typename }' }), { 'x-request-id': 'bad id with spaces' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the request id into every subgraph the request reaches, and logs it there', async () => {
    const query = '{ products(first: 2) { edges { node { name category { name } reviewCount reviews(first: 1) { edges { node { author { name } } } } } } } }';
    const res = await post(JSON.stringify({ query }), { 'x-request-id': 'trace-follow-me' });
    expect(res.status).toBe(200);
    const services = new Set(logs.filter((l) => l.requestId === 'trace-follow-me' && l.msg === 'operation').map((l) => l.service));
    expect([...services].sort()).toEqual(['catalog', 'gateway', 'reviews', 'users']);
  });

  it('never logs a password or a token', async () => {
    await stack.request('mutation { login(email: "alice@example.com", password: "demo-alice-1") { token } }');
    await stack.request('mutation { login(email: "alice@example.com", password: "wrong-secret-pw") { token } }');
    const text = JSON.stringify(logs);
    expect(text).not.toContain('demo-alice-1');
    expect(text).not.toContain('wrong-secret-pw');
    expect(text).not.toMatch(/eyJhbGciOi/);
  });

  it('rejects a malformed query with GRAPHQL_PARSE_FAILED', async () => {
    const res = await stack.request('{ products(first: 1) { edges ');
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('rejects an unknown field and a wrongly typed variable', async () => {
    const unknown = await stack.request('{ products(first: 1) { edges { node { password } } } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const wrongType = await stack.request('query($n: Int!) { products(first: $n) { totalCount } }', { n: 'ten' });
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a query nested 50 levels deep before planning it', async () => {
    let selection = 'id';
    for (let i = 0; i < 12; i++) selection = `category { products(first: 1) { edges { node { ${selection} } } } }`;
    const res = await stack.request(`{ products(first: 1) { edges { node { ${selection} } } } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/^Query depth limit of 12 exceeded, found \d+\.$/);
  });

  it('refuses a 10 MB body with 413 and keeps serving', async () => {
    const huge = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(10 * 1024 * 1024) } });
    expect((await post(huge)).status).toBe(413);
    expect((await stack.request('{ categories { id } }')).data!.categories).toHaveLength(8);
  });

  it('answers a bad body at a subgraph (served without Express) as the gateway (with Express) does, and both keep serving', async () => {
    const tooLarge = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    /** Sent in chunks, without a Content-Length: the limit is found while reading. */
    const streamed = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(tooLarge.slice(i * (tooLarge.length / 4), (i + 1) * (tooLarge.length / 4))));
          controller.close();
        },
      });
    const bodies: [string, () => BodyInit][] = [
      ['over the limit', () => tooLarge],
      ['over the limit, streamed', streamed],
      ['not JSON', () => `{"query": "{ __typename }"`],
      ['JSON but not an object', () => '"{ __typename }"'],
      ['empty', () => ''],
    ];
    for (const [what, body] of bodies) {
      const answers = [];
      for (const url of [stack.gatewayUrl, stack.catalog.url]) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'bad-body-1' }, body: body(), duplex: 'half' } as RequestInit);
        expect(res.headers.get('x-request-id'), `${what} at ${url}`).toBe('bad-body-1');
        answers.push({ status: res.status, type: res.headers.get('content-type'), body: await res.json() });
      }
      expect(answers[1], what).toEqual(answers[0]);
      expect(answers[0]!.status, what).toBeGreaterThanOrEqual(400);
      expect(answers[0]!.body.errors[0].extensions.code, what).toBe('BAD_REQUEST');
    }
    expect((await send(stack.catalog.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: tooLarge })).body.errors[0].message).toBe('the request body is larger than 1mb');
    expect((await stack.request('{ categories { id } }')).data!.categories).toHaveLength(8);
  });

  it('rejects an expired or forged token with 401 UNAUTHENTICATED before calling any subgraph', async () => {
    const viewer = { id: 'someone', role: 'CUSTOMER' } as const;
    const tokens = {
      'not a JWT': 'not-a-jwt',
      expired: await userToken(viewer, Math.floor(Date.now() / 1000) - 60),
      'forged (signed by another key)': await new Tokens({ users: { signing: generateSigningKey(), verifying: [] } }).sign(viewer),
    };
    const subgraphCalls = () => logs.filter((l) => l.service !== 'gateway' && l.msg === 'operation started').length;
    for (const [what, token] of Object.entries(tokens)) {
      const before = subgraphCalls();
      const res = await stack.request('{ categories { id } }', {}, token);
      expect(res.status, what).toBe(401);
      expect(res.errors?.[0]?.extensions?.code, what).toBe('UNAUTHENTICATED');
      expect(subgraphCalls() - before, what).toBe(0);
    }
    // The count would have seen a call: the same request with a valid token reaches catalog.
    const before = subgraphCalls();
    expect((await stack.request('{ categories { id } }', {}, await userToken(viewer))).status).toBe(200);
    expect(subgraphCalls() - before).toBeGreaterThan(0);
  });

  it('answers an unknown path with a JSON 404, on the gateway and on a subgraph', async () => {
    for (const url of [`${base}/nope`, stack.catalog.url.replace(/graphql$/, 'nope')]) {
      const res = await send(url, { method: 'GET' });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'NOT_FOUND' } }] });
    }
  });

  describe.each([
    { mode: 'development', production: false },
    { mode: 'production', production: true },
  ])('errors in $mode mode', ({ production }) => {
    let gateway: RunningServer;
    let usersSubgraph: RunningSubgraph<UsersDb> | undefined;
    /** The gateway, and a users subgraph asked directly (every service runs the same HTTP bootstrap). */
    const targets = () => [
      { service: 'gateway', url: gateway.url, db: stack.users.db },
      { service: 'users subgraph', url: (usersSubgraph ?? stack.users).url, db: (usersSubgraph ?? stack.users).db },
    ];
    beforeAll(async () => {
      gateway = await startGateway(gatewayConfig(stack.urls, { production }));
      if (production) usersSubgraph = await startSubgraph(users, subgraphConfig('users', { production, seed: false }));
    });
    afterAll(async () => {
      await gateway?.close();
      await usersSubgraph?.close();
    });

    it.each(CLIENT_MISTAKES)('refuses %s with HTTP 400, a JSON error and a code, and changes nothing', async (_what, init, code) => {
      for (const { url, db } of targets()) {
        const before = await db.client.user.count();
        const res = await send(url, init);
        expect(res.status).toBe(400);
        expect(res.type).toMatch(/^application\/json/);
        expect(res.body).toEqual({ errors: expect.any(Array) });
        for (const { locations: _where, ...error } of res.body.errors) expect(error).toEqual({ message: expect.any(String), extensions: { code } });
        expect(leaksIn(res.text, stack.urls)).toEqual([]);
        expect(await db.client.user.count()).toBe(before);
      }
    });

    it('says why an operation cannot be chosen or run', async () => {
      for (const { url } of targets()) {
        expect((await send(url, CLIENT_MISTAKES[0]![1])).body.errors[0].message).toBe('Unknown operation named "Login".');
        expect((await send(url, CLIENT_MISTAKES[1]![1])).body.errors[0].message).toBe('Must provide operation name if query contains multiple operations.');
        expect((await send(url, CLIENT_MISTAKES[3]![1])).body.errors[0].message).toMatch(/^a subscription needs a streaming transport: subscribe over WebSocket/);
        expect((await send(url, CLIENT_MISTAKES[4]![1])).body.errors[0].message).toBe('the request body is not valid JSON');
      }
    });

    it('answers a wrong password with the users subgraph\'s own UNAUTHENTICATED error and HTTP 401', async () => {
      const res = await send(gateway.url, postJson({ query: 'mutation { login(email: "alice@example.com", password: "wrong-password-1") { token } }' }));
      expect(res.status).toBe(401);
      expect(res.body.data).toBeNull();
      expect(res.body.errors).toEqual([
        { message: 'invalid email or password', path: ['login'], extensions: { code: 'UNAUTHENTICATED', serviceName: 'users' } },
      ]);
      expect(leaksIn(res.text, stack.urls)).toEqual([]);
    });

    it('refuses an order without a token at the gateway (placeOrder requires a scope), and places nothing', async () => {
      const before = await stack.orders!.db.client.order.count();
      const res = await send(gateway.url, postJson({ query: operation('PlaceOrder'), variables: { input: { items: [{ productId: '00000000-0000-4000-8000-000000000001', quantity: 1 }] } } }));
      expect(res.status).toBe(200);
      expect(res.body.data).toBeNull();
      expect(res.body.errors).toEqual([{ message: 'Unauthorized field or type', path: ['placeOrder'], extensions: { code: 'UNAUTHENTICATED', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' } }]);
      expect(leaksIn(res.text, stack.urls)).toEqual([]);
      expect(await stack.orders!.db.client.order.count()).toBe(before);
    });

    it('still answers a correct login with a token', async () => {
      const res = await graphql(gateway.url, 'mutation { login(email: "alice@example.com", password: "demo-alice-1") { token } }');
      expect(res.status).toBe(200);
      expect(res.data!.login.token).toEqual(expect.any(String));
    });
  });

  describe('in production mode', () => {
    let production: RunningServer;
    beforeAll(async () => {
      production = await startGateway(gatewayConfig(stack.urls, { production: true }));
    });
    afterAll(() => production?.close());

    it('shows no Sandbox', async () => {
      const page = await fetch(production.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('EmbeddedSandbox');
    });

    it('leaks no stack traces and no introspection', async () => {
      const bad = await graphql(production.url, '{ products(first: 1) { edges { node { nope } } } }');
      expect(bad.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');
      const introspection = await graphql(production.url, '{ __schema { types { name } } }');
      expect(introspection.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const ok = await graphql(production.url, '{ categories { slug } }');
      expect(ok.data!.categories).toHaveLength(8);
    });
  });
});

describe('composing from running subgraphs (development)', () => {
  let stack: Stack;
  let gateway: RunningServer;
  beforeAll(async () => {
    stack = await startStack('pglite');
    // No supergraph file at all: the gateway can only have composed the graph from the subgraphs.
    gateway = await startGateway(gatewayConfig(stack.urls, { introspect: true, supergraphPath: path.join(tmpdir(), `no-supergraph-${process.pid}.graphql`) }));
  });
  afterAll(async () => {
    await gateway?.close();
    await stack?.stop();
  });

  it('serves the same graph as supergraph.graphql', async () => {
    const res = await graphql(gateway.url, '{ products(first: 2) { edges { node { name reviewCount shippingEstimate { amount } } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.products.edges).toHaveLength(2);
    // The same types and fields as the stack's gateway, which serves supergraph.graphql.
    const shape = async (url: string) =>
      ((await graphql(url, '{ __schema { types { name fields { name } inputFields { name } enumValues { name } } } }')).data!.__schema.types as { name: string }[])
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(await shape(gateway.url)).toEqual(await shape(stack.gatewayUrl));
  });
});

describe('routing by the supergraph it serves', () => {
  let stack: Stack;
  let dir: string;
  const gateways: RunningServer[] = [];
  beforeAll(async () => {
    stack = await startStack('pglite');
    dir = await mkdtemp(path.join(tmpdir(), 'supergraph-'));
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** supergraph.graphql with these routing URLs in place of the local ones (and `edit` applied). */
  async function supergraphRoutingTo(urls: Record<ServiceName, string>, edit = (sdl: string) => sdl): Promise<string> {
    let sdl = edit(await readFile(SUPERGRAPH_PATH, 'utf8'));
    for (const name of SERVICE_NAMES) {
      const local = `url: "${localServiceUrl(name)}"`;
      expect(sdl).toContain(local);
      sdl = sdl.replace(local, `url: "${urls[name]}"`);
    }
    const file = path.join(dir, `supergraph-${gateways.length}.graphql`);
    await writeFile(file, sdl);
    return file;
  }

  async function gatewayFor(supergraphPath: string, overrides: Partial<Record<ServiceName, string>>) {
    const gateway = await startGateway(gatewayConfig(overrides, { supergraphPath }));
    gateways.push(gateway);
    return gateway;
  }

  // Every subgraph: users (me), catalog (products, category), orders (shippingEstimate), reviews.
  const EVERY_SUBGRAPH = '{ me { name } products(first: 2) { edges { node { name category { name } shippingEstimate { amount } reviewCount } } } }';

  it("reaches the subgraphs at the supergraph's routing URLs when no variable overrides them", async () => {
    const gateway = await gatewayFor(await supergraphRoutingTo(stack.urls), {});
    const res = await graphql(gateway.url, EVERY_SUBGRAPH);
    expect(res.errors).toBeUndefined(); // a subgraph it could not reach would have cost an error
    expect(res.data!.products.edges[0].node).toMatchObject({
      category: { name: expect.any(String) },
      shippingEstimate: { amount: expect.any(Number) },
      reviewCount: expect.any(Number),
    });
  });

  it('lets a variable replace the routing URL of one subgraph, and only that one', async () => {
    const dead = await deadUrl();
    // The supergraph sends reviews nowhere; the override sends it to the running subgraph.
    const rescued = await gatewayFor(await supergraphRoutingTo({ ...stack.urls, reviews: dead }), { reviews: stack.urls.reviews });
    expect((await graphql(rescued.url, EVERY_SUBGRAPH)).errors).toBeUndefined();

    // The supergraph is right; the override sends reviews nowhere, and only reviews fails.
    const misrouted = await gatewayFor(await supergraphRoutingTo(stack.urls), { reviews: dead });
    const res = await graphql(misrouted.url, EVERY_SUBGRAPH);
    expect(res.data!.products.edges[0].node).toMatchObject({ category: { name: expect.any(String) }, shippingEstimate: { amount: expect.any(Number) }, reviewCount: null });
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'SERVICE_UNAVAILABLE', serviceName: 'reviews' }]);
  });

  it("answers a subgraph's refusal of the gateway's request (a supergraph ahead of the subgraph) as an internal error, not the client's", async () => {
    // The served supergraph says reviews has Product.badge; the running reviews subgraph does not.
    const file = await supergraphRoutingTo(stack.urls, (sdl) => {
      const field = '  reviews(first: Int = 10, after: String): ReviewConnection @join__field(graph: REVIEWS) @listSize(slicingArguments: ["first"], sizedFields: ["edges"])';
      expect(sdl).toContain(field);
      return sdl.replace(field, `${field}\n  badge: String @join__field(graph: REVIEWS)`);
    });
    const query = JSON.stringify({ query: '{ products(first: 2) { edges { node { name badge } } } }' });
    for (const production of [false, true]) {
      const gateway = await startGateway(gatewayConfig({}, { supergraphPath: file, production }));
      gateways.push(gateway);
      const res = await send(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
      expect(res.status).toBe(200);
      expect(res.body.data.products.edges[0].node).toEqual({ name: expect.any(String), badge: null });
      expect(res.body.errors).toEqual([
        {
          message: production ? 'Internal server error' : expect.stringMatching(/^the reviews service refused the gateway's request: Cannot query field "badge"/),
          extensions: production ? { code: 'INTERNAL_SERVER_ERROR' } : expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR', serviceName: 'reviews' }),
        },
      ]);
      expect(leaksIn(res.text.replace(/"stacktrace":\[[^\]]*\]/, ''), stack.urls)).toEqual([]);
    }
  });
});
