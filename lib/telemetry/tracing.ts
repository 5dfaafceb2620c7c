// OpenTelemetry tracing for every service. Off unless the standard OTEL_* variables ask for an
// exporter: then (and only then) the SDK is loaded, with a dynamic import, because start-up time
// counts and a service that exports nothing should pay nothing. On, it records one trace per
// client request: the HTTP server span of each service (W3C trace context extracted from the
// caller), parse and validation, the root resolvers, DataLoader batches, Prisma's own spans for
// every SQL statement, and Apollo Gateway's spans (gateway.request, .plan, .fetch...). The
// outgoing calls (gateway -> subgraph, orders/reviews -> catalog) carry `traceparent`.
import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RequestHandler } from 'express';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';

const TRACER = 'commerce-supergraph';
const tracer = () => trace.getTracer(TRACER);

export type TracesExporter = 'otlp' | 'console';

/**
 * Which exporter the environment asks for: `OTEL_TRACES_EXPORTER` when set (otlp, console, none),
 * else otlp as soon as an OTLP endpoint is given; nothing when `OTEL_SDK_DISABLED=true`.
 * Throws, naming the variable, on a value this product does not support.
 */
export function tracesExporterFrom(env: NodeJS.ProcessEnv): TracesExporter | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const asked = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (asked) {
    const list = asked.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.includes('none')) return undefined;
    if (list.length !== 1 || (list[0] !== 'otlp' && list[0] !== 'console')) {
      throw new Error(`OTEL_TRACES_EXPORTER must be otlp, console or none (got "${env.OTEL_TRACES_EXPORTER}")`);
    }
    return list[0];
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return undefined;
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT must be a URL such as http://localhost:4318 (got "${endpoint}")`);
  }
  return 'otlp';
}

interface ActiveTracing {
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: ActiveTracing | undefined;
let starting: Promise<void> | undefined;

/** Whether spans are being recorded in this process; everything below costs nothing when not. */
export const tracingEnabled = () => active !== undefined;

/**
 * Registers the SDK globally with these span processors (the first registration in a process
 * wins: tests register an in-memory exporter before starting the services in-process).
 * `serviceName` is the resource's service.name unless OTEL_SERVICE_NAME says otherwise.
 */
export async function registerTracing(serviceName: string, spanProcessors: SpanProcessor[]): Promise<void> {
  if (active) return;
  const [{ NodeTracerProvider }, { resourceFromAttributes, detectResources, envDetector }, { PrismaInstrumentation }, { registerInstrumentations }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/resources'),
      import('@prisma/instrumentation'),
      import('@opentelemetry/instrumentation'),
    ]);
  if (active) return;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) take precedence over our name.
  const resource = resourceFromAttributes({ 'service.name': serviceName }).merge(detectResources({ detectors: [envDetector] }));
  // The sampler comes from OTEL_TRACES_SAMPLER / _ARG (the SDK reads them); default: parent-based, always on.
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  // AsyncLocalStorage context, W3C trace context and baggage propagation.
  provider.register();
  // Prisma 7 (query compiler, driver adapters) asks for this helper on every query: each SQL
  // statement becomes a prisma:client:db_query span; no preview feature is needed.
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new PrismaInstrumentation()] });
  active = { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

/** Starts tracing when the OTEL_* variables ask for it; a no-op (no import) otherwise, and when already started. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (active) return Promise.resolve();
  const exporter = tracesExporterFrom(env);
  if (!exporter) return Promise.resolve();
  return (starting ??= (async () => {
    const { BatchSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
    // The OTLP/HTTP exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself.
    const spanExporter =
      exporter === 'console' ? new ConsoleSpanExporter() : new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    await registerTracing(serviceName, [new BatchSpanProcessor(spanExporter)]);
  })());
}

const FLUSH_LIMIT_MS = 2_000;

/**
 * Sends the spans still buffered (a stopping service); a no-op when tracing is off. Waits at most
 * 2 s: an unreachable collector must not hold up a shutdown that has its own deadline.
 */
export async function flushTracing() {
  if (!active) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([active.flush().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_LIMIT_MS)))]);
  clearTimeout(timer);
}

/** Stops the SDK (tests, or the end of a process). */
export async function stopTracing() {
  const stopping = active;
  active = undefined;
  starting = undefined;
  await stopping?.shutdown();
}

/** `traceparent` (and `tracestate`) of the active span, to merge into an outgoing request's headers. */
export function traceHeaders(): Record<string, string> {
  if (!active) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** trace_id and span_id of the active span, for the log lines (pino mixin). */
export function logTraceFields(): Record<string, string> {
  if (!active) return {};
  const span = trace.getActiveSpan()?.spanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/**
 * The SERVER span of an HTTP request, child of the caller's span when it sent `traceparent`.
 * Express reads the body through stream events, which run outside the handler's async context:
 * binding req and res keeps the span active through every later middleware and Apollo Server.
 */
export function traceRequests(service: string): RequestHandler[] {
  if (!active) return [];
  return [
    (req, res, next) => {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers as IncomingHttpHeaders);
      const span = tracer().startSpan(
        `${req.method} ${req.baseUrl || req.path}`,
        { kind: SpanKind.SERVER, attributes: { 'service.name': service, 'http.request.method': req.method, 'url.path': req.originalUrl.split('?')[0] } },
        parent,
      );
      const ctx = trace.setSpan(parent, span);
      context.bind(ctx, req);
      context.bind(ctx, res);
      res.once('close', () => {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      context.with(ctx, next);
    },
  ];
}

/** A span under the active one (lib/server/plugins/tracing.ts). */
export function childSpan(name: string, attributes?: Attributes): Span {
  return tracer().startSpan(name, { attributes });
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as Promise<unknown>)?.then === 'function';

/** Runs `fn` in an active child span that ends when it settles (sync or async). */
export function inSpan<T>(name: string, attributes: Attributes, fn: () => T): T {
  if (!active) return fn();
  return tracer().startActiveSpan(name, { attributes }, (span) => {
    const fail = (err: unknown) => {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      span.end();
      throw err;
    };
    try {
      const result = fn();
      if (isPromise(result)) {
        return result.then((value) => {
          span.end();
          return value;
        }, fail) as T;
      }
      span.end();
      return result;
    } catch (err) {
      return fail(err);
    }
  });
}

/**
 * A span around every root field's resolver (Query.*, Mutation.*, and so Query._entities, the
 * gateway's entity fetches): the costly resolvers, under which the DataLoader batches and SQL
 * statements nest. Nested fields are not wrapped: one span per list item would drown the trace.
 * Changes the schema in place; does nothing when tracing is off.
 */
export function traceRootResolvers(schema: GraphQLSchema): GraphQLSchema {
  if (!active) return schema;
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root || !isObjectType(root)) continue;
    for (const field of Object.values(root.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const name = `resolve ${root.name}.${field.name}`;
      const attributes = { 'graphql.field.path': `${root.name}.${field.name}` };
      field.resolve = (source, args, ctx, info) => inSpan(name, attributes, () => resolve(source, args, ctx, info));
    }
  }
  return schema;
}
