// The gateway's front door: health, request ids, and bad requests that get a clear error and
// never take a process down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../gateway/server.js';
import type { RunningServer } from '../lib/graphql-server.js';
import { gatewayConfig, graphql, startStack, type Stack } from './harness.js';

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
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: 'ready' });
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

  it('rejects an expired or forged token with 401 UNAUTHENTICATED before calling any subgraph', async () => {
    const res = await stack.request('{ categories { id } }', {}, 'not-a-jwt');
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
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
    gateway = await startGateway(gatewayConfig(stack.urls, { introspect: true }));
  });
  afterAll(async () => {
    await gateway?.close();
    await stack?.stop();
  });

  it('serves the same graph as supergraph.graphql', async () => {
    const res = await graphql(gateway.url, '{ products(first: 2) { edges { node { name reviewCount shippingEstimate { amount } } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.products.edges).toHaveLength(2);
  });
});
