// How many requests each subgraph has answered for a client operation, read from the in-process
// services' metrics: the planner names its fetches `<operation>__<subgraph>__<n>`, so a test can
// show that a refused operation reached no subgraph.
import { SERVICE_NAMES, type ServiceName } from '../../lib/services.js';
import { serviceMetrics } from '../../lib/telemetry/metrics.js';

export async function subgraphCalls(operationName: string): Promise<Record<ServiceName, number>> {
  const calls = {} as Record<ServiceName, number>;
  for (const service of SERVICE_NAMES) {
    const metric = await serviceMetrics(service).registry.getSingleMetric('graphql_requests_total')!.get();
    calls[service] = metric.values.filter((v) => String(v.labels.operation_name).startsWith(`${operationName}__`)).reduce((sum, v) => sum + v.value, 0);
  }
  return calls;
}
