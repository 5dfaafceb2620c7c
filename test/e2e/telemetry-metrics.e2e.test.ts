// GET /metrics on every service (parsed as Prometheus text by the parser below), counters that
// move with requests, usage by client at the gateway (metrics, the admin report) and the schema
// check naming the client that used a field a change removes.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import { compose, readSubgraphs } from '../../tools/composition.js';
import { ROOT, SUPERGRAPH_FILE } from '../../lib/paths.js';
import { runSchemaCheck } from '../../tools/schema-check/run.js';
import type { UsageReport } from '../../lib/usage-report.js';
import { readUsageReport } from '../../tools/schema-check/usage.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { gatewayConfig, operation, send, startStack, type OperationRequest, type Stack } from '../support/harness.js';
import { METRICS } from '../support/metrics-contract.js';

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL.replace(/\((?!\?)/g, '(?:')},?)*)\\})? (-?(?:[0-9.e+-]+|[Nn]a[Nn]|\\+?Inf))(?: -?[0-9]+)?$`);

/**
 * The Prometheus text exposition format (0.0.4), strictly: any other line fails the test. NaN in
 * any case, as Prometheus reads it (prom-client writes `Nan` for an empty event-loop histogram).
 */
function parsePrometheus(text: string): Sample[] & { types: Map<string, string> } {
  const samples: Sample[] = [];
  const typed = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped'], line).toContain(meta[3]);
        typed.set(meta[2]!, meta[3]!);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    expect(match, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const labels: Labels = {};
    for (const [, key, value] of (match![2] ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const name = match![1]!;
    const family = name.replace(/_(bucket|sum|count|total|created)$/, '');
    expect(typed.has(name) || typed.has(family), `${name} has no # TYPE line`).toBe(true);
    samples.push({ name, labels, value: Number(match![3]!.replace('+Inf', 'Infinity')) });
  }
  return Object.assign(samples, { types: typed });
}

const metricsUrl = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/metrics');

async function scrape(graphqlUrl: string) {
  const response = await fetch(metricsUrl(graphqlUrl));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheus(await response.text());
  /** The value of the one sample with this name and these labels (0 when absent: a counter not yet moved). */
  const value = (name: string, labels: Labels = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
  return { samples, value };
}

const post = (url: string, body: OperationRequest, headers: Record<string, string> = {}) => send(url, body, { headers });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('pglite');
});
afterAll(() => stack?.stop());

describe('GET /metrics', () => {
  it('every service serves Prometheus text with its process, event-loop and database metrics, labelled with its name', async () => {
    const services = { gateway: stack.gatewayUrl, ...stack.urls };
    for (const [service, url] of Object.entries(services)) {
      const { samples, value } = await scrape(url);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
        expect(samples.some((s) => s.name === name && s.labels.service === service), `${service}: ${name}`).toBe(true);
      }
      if (service !== 'gateway') expect(value('db_statement_duration_seconds_count', { service }), service).toBeGreaterThan(0);
    }
  });

  it('exposes every metric of the dashboards\' and alerts\' contract (test/support/metrics-contract.ts) with its type and labels', async () => {
    const scrapes = await Promise.all([stack.gatewayUrl, ...Object.values(stack.urls)].map(scrape));
    for (const [name, { type, labels }] of Object.entries(METRICS)) {
      const exposing = scrapes.filter((s) => s.samples.types.get(name) === type);
      expect(exposing.length, `${name} (${type}) on some service`).toBeGreaterThan(0);
      const allowed = new Set([...labels, 'service', ...(type === 'histogram' ? ['le'] : [])]);
      for (const { samples } of exposing) {
        for (const sample of samples.filter((s) => s.name === name || s.name.startsWith(`${name}_`))) {
          for (const label of Object.keys(sample.labels)) expect(allowed, `${sample.name} label ${label}`).toContain(label);
        }
      }
    }
  });

  it('operations, latency, subgraph fetches, SQL statements and plan-cache lookups are counted as requests arrive', async () => {
    const before = { gateway: await scrape(stack.gatewayUrl), catalog: await scrape(stack.urls.catalog) };
    // A name of its own: the first request plans it (a miss), the second finds the plan (a hit).
    const query = operation('ProductList').replace('query ProductList', 'query MetricsProbe');
    for (let i = 0; i < 2; i++) expect((await post(stack.gatewayUrl, { query, variables: { first: 3 } })).errors).toBeUndefined();
    const after = { gateway: await scrape(stack.gatewayUrl), catalog: await scrape(stack.urls.catalog) };
    const moved = (s: 'gateway' | 'catalog', name: string, labels: Labels = {}) => after[s].value(name, labels) - before[s].value(name, labels);

    const probe = { operation_name: 'MetricsProbe', operation_type: 'query' };
    expect(moved('gateway', 'graphql_requests_total', probe)).toBe(2);
    expect(moved('gateway', 'graphql_request_duration_seconds_count', probe)).toBe(2);
    expect(after.gateway.value('graphql_request_duration_seconds_bucket', { ...probe, le: '+Inf' })).toBe(after.gateway.value('graphql_request_duration_seconds_count', probe));
    expect(moved('gateway', 'gateway_query_plan_cache_total', { result: 'miss' })).toBe(1);
    expect(moved('gateway', 'gateway_query_plan_cache_total', { result: 'hit' })).toBe(1);
    expect(moved('gateway', 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'catalog' })).toBe(2);
    expect(moved('gateway', 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'reviews' })).toBe(2);
    // The subgraph counts the operation the gateway planned for it, under the planner's name.
    expect(moved('catalog', 'graphql_requests_total', { operation_name: 'MetricsProbe__catalog__0', operation_type: 'query' })).toBe(2);
    expect(moved('catalog', 'db_statement_duration_seconds_count')).toBeGreaterThanOrEqual(2);
  });

  it('errors are counted by extensions.code, and a malformed operation name becomes "other"', async () => {
    const before = await scrape(stack.gatewayUrl);
    const invalid = await post(stack.gatewayUrl, { query: '{ products(first: 1) { nope } }' });
    expect(invalid.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const unparsable = await post(stack.gatewayUrl, { query: '{ products(', operationName: 'drop table; --' });
    expect(unparsable.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const after = await scrape(stack.gatewayUrl);
    const moved = (name: string, labels: Labels) => after.value(name, labels) - before.value(name, labels);
    expect(moved('graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(moved('graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
    expect(moved('graphql_requests_total', { operation_name: 'other', operation_type: 'unknown' })).toBe(1);
    expect(moved('graphql_requests_total', { operation_name: 'anonymous', operation_type: 'unknown' })).toBe(1);
    expect(after.samples.some((s) => Object.values(s.labels).some((v) => v.includes('drop table')))).toBe(false);
  });

  it('a subgraph the gateway cannot reach is counted as an unreachable fetch', async () => {
    // A second gateway whose users subgraph listens nowhere (a port that refuses connections).
    const gateway = await startGateway(gatewayConfig({ ...stack.urls, users: 'http://127.0.0.1:1/graphql' }));
    try {
      const before = await scrape(gateway.url);
      const res = await post(gateway.url, { query: '{ user(id: "u1") { id } }' });
      expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      const after = await scrape(gateway.url);
      const labels = { subgraph: 'users', reason: 'unreachable' };
      expect(after.value('gateway_subgraph_fetch_failures_total', labels) - before.value('gateway_subgraph_fetch_failures_total', labels)).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it("orders counts how placements end: confirmed, out of stock", async () => {
    const [, alice] = DEMO_ACCOUNTS;
    const token = await stack.login(alice.email, alice.password);
    const products = await stack.request<{ products: { edges: { node: { id: string; stock: number } }[] } }>('{ products(first: 1, filter: { inStock: true }) { edges { node { id stock } } } }');
    const product = products.data!.products.edges[0]!.node;
    const before = await scrape(stack.urls.orders);
    const place = (quantity: number) => stack.request(operation('PlaceOrder'), { input: { items: [{ productId: product.id, quantity }] } }, token);
    expect((await place(1)).data?.placeOrder.status).toBe('CONFIRMED');
    expect((await place(Math.min(100, product.stock + 1))).errors?.[0]?.extensions?.code).toBe(product.stock + 1 > 100 ? 'BAD_USER_INPUT' : 'OUT_OF_STOCK');
    const after = await scrape(stack.urls.orders);
    const moved = (outcome: string) => after.value('orders_saga_outcomes_total', { outcome }) - before.value('orders_saga_outcomes_total', { outcome });
    expect(moved('confirmed')).toBe(1);
    expect(moved('out_of_stock') + moved('refused')).toBe(1);
  });
});

describe('usage by client', () => {
  const web = { 'apollographql-client-name': 'web', 'apollographql-client-version': '2.4.0' };
  let report: UsageReport;
  /** The cost the gateway answered for the operation (x-operation-cost: true). */
  let cost: { estimated: number; actual: number };

  beforeAll(async () => {
    const before = await scrape(stack.gatewayUrl);
    const answered = await post(stack.gatewayUrl, { query: operation('ProductList'), variables: { first: 2 } }, { ...web, 'x-operation-cost': 'true' });
    expect(answered.errors).toBeUndefined();
    cost = answered.extensions!.cost as typeof cost;
    const after = await scrape(stack.gatewayUrl);
    const moved = (name: string, labels: Labels) => after.value(name, labels) - before.value(name, labels);
    expect(moved('gateway_client_operations_total', { client_name: 'web', client_version: '2.4.0', operation_name: 'ProductList' })).toBe(1);
    expect(moved('gateway_schema_field_usage_total', { client_name: 'web', type: 'Product', field: 'averageRating' })).toBe(1);
    expect(moved('gateway_schema_field_usage_total', { client_name: 'web', type: 'Query', field: 'products' })).toBe(1);

    const [admin] = DEMO_ACCOUNTS;
    const response = await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/usage'), { headers: { authorization: `Bearer ${await stack.login(admin.email, admin.password)}` } });
    expect(response.status).toBe(200);
    report = (await response.json()) as UsageReport;
  });

  it('the gateway reports, to administrators, which client ran which operation and selected which fields', () => {
    const client = report.clients.find((c) => c.name === 'web' && c.version === '2.4.0');
    expect(client?.operations).toEqual({ ProductList: 1 });
    expect(Object.keys(client!.fields)).toEqual(
      expect.arrayContaining(['Query.products', 'ProductConnection.edges', 'Product.averageRating', 'Product.reviewCount', 'Category.slug', 'Money.amount', 'PageInfo.endCursor']),
    );
    expect(Object.keys(client!.fields).some((f) => f.includes('__'))).toBe(false);
    expect(new Date(report.from).getTime()).toBeLessThanOrEqual(new Date(report.to).getTime());
  });

  it("gives each client's estimated and actual cost (operations, sum, largest) beside its fields", () => {
    const client = report.clients.find((c) => c.name === 'web' && c.version === '2.4.0');
    expect(cost.estimated).toBeGreaterThanOrEqual(cost.actual); // the estimate bounds the answer
    expect(client?.cost).toEqual({
      estimated: { count: 1, sum: cost.estimated, max: cost.estimated },
      actual: { count: 1, sum: cost.actual, max: cost.actual },
    });
  });

  it('refuses the report without a token (401) and to a customer (403)', async () => {
    const url = stack.gatewayUrl.replace(/\/graphql$/, '/usage');
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const [, alice] = DEMO_ACCOUNTS;
    const customer = await fetch(url, { headers: { authorization: `Bearer ${await stack.login(alice.email, alice.password)}` } });
    expect(customer.status).toBe(403);
    expect(((await customer.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    const forged = await fetch(url, { headers: { authorization: 'Bearer not.a.token' } });
    expect(forged.status).toBe(401);
  });

  it('schema:check with the report names the client that used a field a change removes', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'usage-check-'));
    try {
      for (const file of ['supergraph.yaml', SUPERGRAPH_FILE, 'schema-changes.acknowledged.yaml', 'operations', 'subgraphs']) {
        cpSync(path.join(ROOT, file), path.join(root, file), { recursive: true, filter: (f) => !f.endsWith('.ts') });
      }
      const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
      git('init', '-q', '-b', 'main');
      git('add', '-A');
      git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'base');
      const schema = path.join(root, 'subgraphs/reviews/schema.graphql');
      writeFileSync(schema, readFileSync(schema, 'utf8').replace(/\n\s*averageRating: Float/, ''));
      const composed = compose(readSubgraphs(root));
      if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
      writeFileSync(path.join(root, SUPERGRAPH_FILE), composed.supergraphSdl);
      const file = path.join(root, 'usage.json');
      writeFileSync(file, JSON.stringify(report));

      const lines: string[] = [];
      const ok = await runSchemaCheck({ root, base: 'main', usage: readUsageReport(file), print: (l) => lines.push(l) });
      expect(ok).toBe(false);
      const breaking = lines.find((l) => l.includes('BREAKING') && l.includes('Product.averageRating'));
      expect(breaking).toMatch(/used from .+ to .+ by .*web 2\.4\.0 \(1 operation\)/);

      writeFileSync(file, JSON.stringify({ ...report, clients: [{ name: 'web' }] }));
      expect(() => readUsageReport(file)).toThrow(/usage report .*usage\.json: clients\.0\.version/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
