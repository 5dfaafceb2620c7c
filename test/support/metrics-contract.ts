// The metric and label names the services expose on /metrics (prom-client), which the Grafana
// dashboard and the Prometheus alert rules in deploy/observability query. A query of any other name
// would show nothing or never fire, so the compose test holds both to this list.

type Metric = { type: 'counter' | 'gauge' | 'histogram'; labels: readonly string[] };
const counter = (...labels: string[]): Metric => ({ type: 'counter', labels });
const gauge = (...labels: string[]): Metric => ({ type: 'gauge', labels });
const histogram = (...labels: string[]): Metric => ({ type: 'histogram', labels });

/** Every metric by name with its labels; histograms also give `<name>_bucket` (with `le`), `_sum` and `_count`. */
export const METRICS: Record<string, Metric> = {
  graphql_requests_total: counter('operation_name', 'operation_type'),
  graphql_request_duration_seconds: histogram('operation_name', 'operation_type'),
  graphql_errors_total: counter('code'),
  gateway_subgraph_fetch_duration_seconds: histogram('subgraph'),
  gateway_subgraph_fetch_failures_total: counter('subgraph', 'reason'),
  gateway_query_plan_cache_total: counter('result'),
  gateway_client_operations_total: counter('client_name', 'client_version', 'operation_name'),
  gateway_schema_field_usage_total: counter('client_name', 'type', 'field'),
  gateway_subscriptions_active: gauge(),
  gateway_subscription_streams_active: gauge(),
  gateway_supergraph_reloads_total: counter('outcome'),
  gateway_deferred_parts_total: counter('operation_name', 'part'),
  gateway_deferred_first_payload_seconds: histogram('operation_name'),
  gateway_operation_cost: histogram('kind', 'client_name'),
  orders_saga_outcomes_total: counter('outcome'),
  orders_recovery_actions_total: counter('action'),
  db_statement_duration_seconds: histogram(),
  // prom-client's default metrics (the ones queried here).
  process_cpu_seconds_total: counter(),
  process_resident_memory_bytes: gauge(),
  nodejs_eventloop_lag_seconds: gauge(),
  nodejs_eventloop_lag_p99_seconds: gauge(),
  nodejs_heap_size_used_bytes: gauge(),
};

/** Every series name a query may use: the metrics, their histogram series, and Prometheus's own `up`. */
export const SERIES = new Set([
  'up',
  ...Object.entries(METRICS).flatMap(([name, { type }]) => (type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name])),
]);

/**
 * The labels a query over these series may name: each metric's own, `service` (every metric
 * carries the service's name), `le` of histogram buckets, and the `job` and `instance` Prometheus
 * gives every target.
 */
export function labelsOf(series: string[]): Set<string> {
  const labels = new Set(['service', 'job', 'instance']);
  for (const name of series) {
    if (name.endsWith('_bucket')) labels.add('le');
    const metric = METRICS[name] ?? METRICS[name.replace(/_(bucket|sum|count)$/, '')];
    for (const label of metric?.labels ?? []) labels.add(label);
  }
  return labels;
}

/** The label names a PromQL expression uses: in matchers and in grouping clauses. */
export function labelsIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const matchers = [...bare.matchAll(/\{([^}]*)\}/g)].flatMap(([, body]) => [...body!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map(([, name]) => name!));
  const grouped = [...bare.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap(([, list]) =>
    list!.split(',').map((l) => l.trim()).filter(Boolean),
  );
  return [...matchers, ...grouped];
}

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
