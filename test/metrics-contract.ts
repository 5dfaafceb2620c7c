// The metric names the services expose on /metrics (prom-client), which the Grafana dashboard and
// the Prometheus alert rules in deploy/observability query. A query of any other name would show
// nothing or never fire, so the compose test holds both to this list.

/** Counters and gauges by name; histograms also give `<name>_bucket`, `_sum` and `_count`. */
export const METRICS = {
  graphql_requests_total: 'counter',
  graphql_request_duration_seconds: 'histogram',
  graphql_errors_total: 'counter',
  gateway_subgraph_fetch_duration_seconds: 'histogram',
  gateway_subgraph_fetch_failures_total: 'counter',
  gateway_query_plan_cache_total: 'counter',
  gateway_client_operations_total: 'counter',
  gateway_schema_field_usage_total: 'counter',
  gateway_subscriptions_active: 'gauge',
  orders_saga_outcomes_total: 'counter',
  orders_recovery_actions_total: 'counter',
  db_statement_duration_seconds: 'histogram',
  // prom-client's default metrics (the ones queried here).
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_eventloop_lag_p99_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
} as const;

/** Every series name a query may use: the metrics, their histogram series, and Prometheus's own `up`. */
export const SERIES = new Set([
  'up',
  ...Object.entries(METRICS).flatMap(([name, type]) => (type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name])),
]);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/**
 * The series names a PromQL expression reads: what is left once strings, label matchers, ranges,
 * grouping clauses, Grafana variables, functions and keywords are taken out.
 */
export function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  return [...bare.matchAll(/([A-Za-z_:][\w:]*)\s*(\()?/g)]
    .filter(([, name, call]) => !call && !KEYWORDS.has(name!.toLowerCase()) && !/^\d/.test(name!))
    .map(([, name]) => name!)
    .filter((name) => !/^[eE]\d*$/.test(name));
}
