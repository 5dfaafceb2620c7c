// The cost of operations by the schema's @cost and @listSize (lib/security/cost-model.ts), as a
// gateway feature (useCost): the supergraph's cost model prices the API schema the gateway
// validates against (the limits plugin's estimate, batches, subscriptions), and each operation's
// estimated and actual cost (from its answer) is recorded by client (gateway_operation_cost, and
// the usage report's `cost`), so
// that MAX_COST can be set from data. A client that sends the header `x-operation-cost: true`
// gets both in the answer's `extensions.cost`. The estimate is the request's one, shared with the
// limits and the budget (lib/security/request-figures.ts).
import type { ApolloServerPlugin } from '@apollo/server';
import { actualCost, costModelFromSupergraph, useCostModel } from '../../lib/security/operation-cost.js';
import { requestFigures } from '../../lib/security/request-figures.js';
import { BoundedLabel } from '../../lib/telemetry/metrics.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';
import { gatewayMetrics, type GatewayMetrics } from '../metrics.js';
import { CLIENT_NAME_HEADER, CLIENT_VERSION_HEADER, type UsageRecorder } from './usage.js';

export const COST_HEADER = 'x-operation-cost';

export interface CostOptions {
  /** The size assumed for a list that declares none (COST_ASSUMED_LIST_SIZE). */
  assumedListSize: number;
  metrics?: GatewayMetrics;
  /** Usage by client (GET /usage): each answered operation's estimated and actual cost is added to its client's. */
  usage?: UsageRecorder;
}

export interface OperationCost {
  estimated: number;
  actual: number;
}

/** The client an operation came from, by Apollo's headers. */
export interface CostClient {
  name?: string | undefined;
  version?: string | undefined;
}

export interface CostFeature extends GatewayFeature {
  /** Records an answered operation's estimated and actual cost (also for deferred queries, gateway/features/defer.ts). */
  record(client: CostClient, estimated: number, actual: number): void;
}

export function useCost(options: CostOptions): CostFeature {
  const metrics = options.metrics ?? gatewayMetrics();
  const clients = new BoundedLabel(50, 'unknown');
  function record(client: CostClient, estimated: number, actual: number) {
    const label = clients.of(client.name);
    metrics.operationCost.observe({ kind: 'estimated', client_name: label }, estimated);
    metrics.operationCost.observe({ kind: 'actual', client_name: label }, actual);
    options.usage?.recordCost(client, estimated, actual);
  }
  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      let estimated: number | undefined;
      return {
        // The estimate of the operation as it will be planned (after the access rules took fields out).
        async executionDidStart(requestContext) {
          estimated = requestFigures(requestContext).cost;
        },
        async willSendResponse({ schema, document, operation, request, response }) {
          if (estimated === undefined || !document || !operation || response.body.kind !== 'single') return;
          const actual = actualCost(schema, document, operation, response.body.singleResult.data);
          const headers = request.http?.headers;
          record({ name: headers?.get(CLIENT_NAME_HEADER) ?? undefined, version: headers?.get(CLIENT_VERSION_HEADER) ?? undefined }, estimated, actual);
          if (request.http?.headers.get(COST_HEADER) === 'true') {
            const result = response.body.singleResult;
            result.extensions = { ...result.extensions, cost: { estimated, actual } satisfies OperationCost };
          }
        },
      };
    },
  };
  return {
    plugins: [plugin],
    record,
    onSupergraph({ coreSupergraphSdl, apiSchema }) {
      useCostModel(apiSchema, costModelFromSupergraph(coreSupergraphSdl, options.assumedListSize));
    },
  };
}
