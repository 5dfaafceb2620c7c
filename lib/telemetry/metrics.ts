// Prometheus metrics for every service (prom-client), served on GET /metrics: requests and their
// latency by operation, errors by extensions.code, SQL statement latency, and prom-client's
// process and event-loop metrics. One registry per service name, so that services started in one
// process (the tests) keep theirs apart; every metric carries a `service` label. Label values
// that come from clients (operation names, error codes) are bounded: see BoundedLabel.
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Seconds; from a 5 ms cache hit to a 10 s timeout. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; SQL statements are mostly sub-millisecond on the embedded database. */
const STATEMENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
export const SUBGRAPH_FETCH_BUCKETS = REQUEST_BUCKETS;

/** A GraphQL name, or a client name such as `web-shop`. */
export const NAME_LIKE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** A version such as `2.4.0`, `1.0.0-rc.1+build.5`. */
export const VERSION_LIKE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

/**
 * Keeps a client-chosen label value bounded: well-formed values are kept until `max` distinct
 * ones were seen, then any new one becomes "other"; malformed ones are "other" at once.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  constructor(
    readonly max: number,
    readonly empty = 'anonymous',
    readonly wellFormed = NAME_LIKE,
  ) {}

  of(value: string | null | undefined): string {
    if (!value) return this.empty;
    if (this.#seen.has(value)) return value;
    if (!this.wellFormed.test(value) || this.#seen.size >= this.max) return 'other';
    this.#seen.add(value);
    return value;
  }
}

export interface ServiceMetrics {
  service: string;
  registry: Registry;
  requests: Counter<'operation_name' | 'operation_type'>;
  requestDuration: Histogram<'operation_name' | 'operation_type'>;
  errors: Counter<'code'>;
  dbStatementDuration: Histogram;
  operationNames: BoundedLabel;
  errorCodes: BoundedLabel;
}

const byService = new Map<string, ServiceMetrics>();

/** The metrics of one service, created on first use (one registry per service name in this process). */
export function serviceMetrics(service: string): ServiceMetrics {
  const existing = byService.get(service);
  if (existing) return existing;
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Process CPU and memory, heap, GC, and event-loop lag (nodejs_eventloop_lag_seconds, _p99...).
  collectDefaultMetrics({ register: registry });
  const metrics: ServiceMetrics = {
    service,
    registry,
    requests: new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL operations answered, by operation name and type',
      labelNames: ['operation_name', 'operation_type'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL operation to sending its response',
      labelNames: ['operation_name', 'operation_type'],
      buckets: REQUEST_BUCKETS,
      registers: [registry],
    }),
    errors: new Counter({ name: 'graphql_errors_total', help: 'GraphQL errors sent, by extensions.code', labelNames: ['code'], registers: [registry] }),
    dbStatementDuration: new Histogram({
      name: 'db_statement_duration_seconds',
      help: 'SQL statement latency as Prisma measured it',
      buckets: STATEMENT_BUCKETS,
      registers: [registry],
    }),
    operationNames: new BoundedLabel(200),
    errorCodes: new BoundedLabel(50, 'none'),
  };
  byService.set(service, metrics);
  return metrics;
}

/** GET /metrics: the service's registry in the Prometheus text format. */
export function metricsHandler(metrics: ServiceMetrics): RequestHandler {
  return async (_req, res, next) => {
    try {
      const body = await metrics.registry.metrics();
      res.setHeader('content-type', metrics.registry.contentType);
      res.send(body);
    } catch (err) {
      next(err);
    }
  };
}
