// One trace per client request, across the gateway, the subgraphs it reaches, their SQL and the
// orders -> catalog calls: the services run in this process (real HTTP between them), spans go
// to an in-memory exporter. Each service's spans are told apart by their nearest SERVER span,
// which names the service (in production each process has its own resource service.name).
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTracing, stopTracing } from '../../lib/telemetry/tracing.js';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { bearer, operation, send, startStack, type Stack } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const exporter = new InMemorySpanExporter();
const logs: Record<string, unknown>[] = [];
let stack: Stack;

beforeAll(async () => {
  await registerTracing('commerce-test', [new SimpleSpanProcessor(exporter)]);
  stack = await startStack('pglite', { logs });
});
afterAll(async () => {
  await stack?.stop();
  await stopTracing();
});

/** Sends an operation as a traced client would: with its own `traceparent`. */
async function tracedRequest(query: string, variables: Record<string, unknown>, token?: string) {
  const traceId = randomBytes(16).toString('hex');
  const body = await send(stack.gatewayUrl, { query, variables }, {
    headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, 'apollographql-client-name': 'web', ...bearer(token) },
  });
  expect(body.errors).toBeUndefined();
  return { traceId, data: body.data! };
}

class Trace {
  readonly byId: Map<string, ReadableSpan>;
  constructor(readonly spans: ReadableSpan[]) {
    this.byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  }
  parent(span: ReadableSpan) {
    const id = span.parentSpanContext?.spanId;
    return id ? this.byId.get(id) : undefined;
  }
  ancestors(span: ReadableSpan): ReadableSpan[] {
    const chain: ReadableSpan[] = [];
    for (let p = this.parent(span); p; p = this.parent(p)) chain.push(p);
    return chain;
  }
  /** The service whose SERVER span is the nearest one above (or is) this span. */
  serviceOf(span: ReadableSpan): string | undefined {
    const server = [span, ...this.ancestors(span)].find((s) => s.kind === SpanKind.SERVER);
    return server?.attributes['service.name'] as string | undefined;
  }
  named(name: string, service?: string) {
    return this.spans.filter((s) => s.name === name && (service === undefined || this.serviceOf(s) === service));
  }
  servers(service: string) {
    return this.spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['service.name'] === service);
  }
}

/** The finished spans of one trace, once `ready` holds (spans end a moment after the response). */
async function traceOf(traceId: string, ready: (t: Trace) => boolean): Promise<Trace> {
  return waitFor(`the whole trace ${traceId}`, () => {
    const t = new Trace(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId));
    if (!ready(t)) throw new Error(`trace ${traceId} incomplete: ${t.spans.map((s) => s.name).join(', ')}`);
    return t;
  });
}

describe('traces', () => {
  it('the web ProductList is one trace, continued from the client, through the gateway, catalog and reviews down to their SQL', async () => {
    const { traceId } = await tracedRequest(operation('ProductList'), { first: 5 });
    const t = await traceOf(traceId, (t) => t.servers('gateway').length > 0 && ['catalog', 'reviews'].every((s) => t.named('prisma:client:db_query', s).length > 0));

    // Every span of the trace descends from the client's: none started a trace of its own.
    const roots = t.spans.filter((s) => !t.parent(s));
    expect(roots.map((s) => s.name)).toEqual(['query ProductList']);
    expect(t.servers('gateway')).toHaveLength(1);
    const [gateway] = t.servers('gateway');
    expect(gateway!.name).toBe('query ProductList');
    expect(gateway!.parentSpanContext?.isRemote).toBe(true);

    // The gateway: parse, validate, plan (first time this operation is seen), one fetch per subgraph call.
    for (const name of ['graphql.parse', 'graphql.validate', 'gateway.request', 'gateway.validate', 'gateway.plan', 'gateway.execute']) {
      expect(t.named(name, 'gateway'), name).toHaveLength(1);
    }
    const fetches = t.named('gateway.fetch', 'gateway');
    expect(fetches.map((f) => f.attributes.service).sort()).toEqual(['catalog', 'reviews']);

    // Each subgraph's server span continues a gateway.fetch span (W3C traceparent over HTTP).
    for (const subgraph of ['catalog', 'reviews']) {
      const [server, ...more] = t.servers(subgraph);
      expect(more).toHaveLength(0);
      expect(server!.parentSpanContext?.isRemote).toBe(true);
      expect(t.parent(server!)?.name).toBe('gateway.fetch');
      expect(t.parent(server!)?.attributes.service).toBe(subgraph);
      // SQL statements are Prisma's spans, under this subgraph's request, with the statement text.
      const sql = t.named('prisma:client:db_query', subgraph);
      expect(sql.length).toBeGreaterThan(0);
      for (const statement of sql) {
        expect(t.ancestors(statement)).toContain(server);
        expect(String(statement.attributes['db.query.text'])).toMatch(/SELECT/i);
      }
    }
    // The costly resolvers and the batches: catalog's products field, reviews' entity batch.
    expect(t.named('resolve Query.products', 'catalog')).toHaveLength(1);
    expect(t.named('resolve Query._entities', 'reviews')).toHaveLength(1);
    const batch = t.named('dataloader.batch', 'reviews');
    expect(batch.length).toBeGreaterThan(0);
    expect(batch[0]!.attributes['dataloader.batch_size']).toBe(5);
    expect(t.spans.filter((s) => s.name === 'prisma:client:db_query').some((s) => t.ancestors(s).includes(batch[0]!))).toBe(true);

    // Log lines of this request carry its trace id, and the span they were written in.
    const lines = logs.filter((l) => l.trace_id === traceId);
    expect(new Set(lines.map((l) => l.service))).toEqual(new Set(['gateway', 'catalog', 'reviews']));
    for (const line of lines) expect(t.byId.has(String(line.span_id))).toBe(true);
  });

  it('a product page reaches users and orders too, each under the same trace', async () => {
    const product = (await stack.request<{ products: { edges: { node: { id: string } }[] } }>('{ products(first: 1) { edges { node { id } } } }')).data!.products.edges[0]!.node.id;
    const { traceId } = await tracedRequest(operation('ProductDetail'), { id: product });
    const services = ['gateway', 'catalog', 'reviews', 'users', 'orders'];
    const t = await traceOf(traceId, (t) => services.every((s) => t.servers(s).length > 0));
    for (const subgraph of ['users', 'reviews', 'catalog']) expect(t.named('prisma:client:db_query', subgraph).length, subgraph).toBeGreaterThan(0);
    expect(new Set(t.named('gateway.fetch').map((f) => f.attributes.service))).toEqual(new Set(['catalog', 'reviews', 'users', 'orders']));
  });

  it('a deferred product page (@defer) is one trace too: the gateway\'s execution and a fetch per subgraph call, every subgraph under it', async () => {
    const product = (await stack.request<{ products: { edges: { node: { id: string } }[] } }>('{ products(first: 1) { edges { node { id } } } }')).data!.products.edges[0]!.node.id;
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824,application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ query: operation('ProductPage'), variables: { id: product } }),
    });
    expect(response.headers.get('content-type')).toContain('multipart/mixed');
    expect(await response.text()).toContain('"hasNext":false');
    const services = ['gateway', 'catalog', 'reviews', 'users', 'orders'];
    const t = await traceOf(traceId, (t) => services.every((s) => t.servers(s).length > 0) && t.named('gateway.execute').length > 0);
    const [execute] = t.named('gateway.execute', 'gateway');
    const fetches = t.named('gateway.fetch', 'gateway');
    expect(new Set(fetches.map((f) => f.attributes.service))).toEqual(new Set(['catalog', 'reviews', 'users', 'orders']));
    for (const f of fetches) expect(t.ancestors(f)).toContain(execute);
    // Each subgraph's request continues the trace under one of the gateway's fetches.
    for (const subgraph of ['catalog', 'reviews', 'users', 'orders']) {
      expect(t.servers(subgraph).some((server) => fetches.some((f) => t.ancestors(server).includes(f))), subgraph).toBe(true);
    }
  });

  it('placing an order carries the trace on the orders -> catalog calls', async () => {
    const [, alice] = DEMO_ACCOUNTS;
    const token = await stack.login(alice!.email, alice!.password);
    const product = (await stack.request<{ products: { edges: { node: { id: string } }[] } }>('{ products(first: 1, filter: { inStock: true }) { edges { node { id } } } }')).data!.products.edges[0]!.node.id;
    const { traceId, data } = await tracedRequest(operation('PlaceOrder'), { input: { items: [{ productId: product, quantity: 1 }] } }, token);
    expect(data.placeOrder.status).toBe('CONFIRMED');
    // Two catalog requests come from orders (reserve, then commit), besides the gateway's fetch.
    const t = await traceOf(traceId, (t) => t.servers('catalog').filter((s) => t.serviceOf(t.parent(s)!) === 'orders').length >= 2);
    const called = t.servers('catalog').filter((s) => t.serviceOf(t.parent(s)!) === 'orders');
    for (const server of called) {
      expect(t.parent(server)?.name).toBe('call catalog');
      expect(t.ancestors(server)).toContain(t.named('resolve Mutation.placeOrder', 'orders')[0]);
      expect(t.named('prisma:client:db_query', 'catalog').some((s) => t.ancestors(s).includes(server))).toBe(true);
    }
    expect(t.named('prisma:client:db_query', 'orders').length).toBeGreaterThan(0);
  });
});
