// The gateway's own metrics, next to the shared ones (lib/telemetry/metrics.ts) in its registry:
// per-subgraph fetch latency and failures, query-plan cache hits (gateway/features/metrics.ts), usage
// by client (gateway/features/usage.ts), open subscriptions, supergraph reloads
// (gateway/features/supergraph.ts) and the parts of deferred responses (gateway/features/defer.ts). Names are a contract with the dashboards and alert rules.
import { Counter, Gauge, Histogram } from 'prom-client';
import { serviceMetrics, SUBGRAPH_FETCH_BUCKETS } from '../lib/telemetry/metrics.js';

/** Why a subgraph call produced no GraphQL answer. */
export type FetchFailure = 'timeout' | 'unreachable' | 'http_error' | 'invalid_response';

export interface GatewayMetrics {
  subgraphFetchDuration: Histogram<'subgraph'>;
  subgraphFetchFailures: Counter<'subgraph' | 'reason'>;
  queryPlanCache: Counter<'result'>;
  clientOperations: Counter<'client_name' | 'client_version' | 'operation_name'>;
  fieldUsage: Counter<'client_name' | 'type' | 'field'>;
  subscriptionsActive: Gauge;
  subscriptionStreamsActive: Gauge;
  supergraphReloads: Counter<'outcome'>;
  deferredParts: Counter<'operation_name' | 'part'>;
  deferredFirstPayload: Histogram<'operation_name'>;
  operationCost: Histogram<'kind' | 'client_name'>;
}

let created: GatewayMetrics | undefined;

export function gatewayMetrics(): GatewayMetrics {
  if (created) return created;
  const registers = [serviceMetrics('gateway').registry];
  created = {
    subgraphFetchDuration: new Histogram({
      name: 'gateway_subgraph_fetch_duration_seconds',
      help: 'Time of one subgraph call, answer read, failures included',
      labelNames: ['subgraph'],
      buckets: SUBGRAPH_FETCH_BUCKETS,
      registers,
    }),
    subgraphFetchFailures: new Counter({
      name: 'gateway_subgraph_fetch_failures_total',
      help: 'Subgraph calls without a GraphQL answer: timeout, unreachable, http_error, invalid_response',
      labelNames: ['subgraph', 'reason'],
      registers,
    }),
    queryPlanCache: new Counter({ name: 'gateway_query_plan_cache_total', help: 'Query-plan cache lookups, by hit or miss', labelNames: ['result'], registers }),
    clientOperations: new Counter({
      name: 'gateway_client_operations_total',
      help: 'Operations by client (apollographql-client-name / -version headers) and operation name',
      labelNames: ['client_name', 'client_version', 'operation_name'],
      registers,
    }),
    fieldUsage: new Counter({
      name: 'gateway_schema_field_usage_total',
      help: 'Operations that selected a schema field (Type.field), by client',
      labelNames: ['client_name', 'type', 'field'],
      registers,
    }),
    subscriptionsActive: new Gauge({ name: 'gateway_subscriptions_active', help: 'Subscriptions the gateway is serving now (WebSocket and SSE)', registers }),
    subscriptionStreamsActive: new Gauge({
      name: 'gateway_subscription_streams_active',
      help: 'Subscriptions open at the subgraphs now: one per distinct operation, variables and token, shared by its subscribers',
      registers,
    }),
    supergraphReloads: new Counter({
      name: 'gateway_supergraph_reloads_total',
      help: 'Supergraph files read again (file changed, SIGHUP): applied, or refused (unreadable or invalid; the last good one is kept)',
      labelNames: ['outcome'],
      registers,
    }),
    deferredParts: new Counter({
      name: 'gateway_deferred_parts_total',
      help: 'Parts of deferred (@defer) responses sent, by operation: the initial payload, and each subsequent one',
      labelNames: ['operation_name', 'part'],
      registers,
    }),
    deferredFirstPayload: new Histogram({
      name: 'gateway_deferred_first_payload_seconds',
      help: 'Time from receiving a deferred (@defer) operation to sending its first payload',
      labelNames: ['operation_name'],
      buckets: SUBGRAPH_FETCH_BUCKETS,
      registers,
    }),
    operationCost: new Histogram({
      name: 'gateway_operation_cost',
      help: 'Cost of each operation by the schema\'s @cost and @listSize: kind="estimated" before planning, "actual" from the answer',
      labelNames: ['kind', 'client_name'],
      buckets: [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000],
      registers,
    }),
  };
  // Both outcomes are exported from the start: an alert on increase() misses the first refusal of a
  // series that did not exist before it.
  for (const outcome of ['applied', 'refused']) created.supergraphReloads.inc({ outcome }, 0);
  return created;
}
