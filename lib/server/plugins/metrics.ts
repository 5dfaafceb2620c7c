// Every service's request metrics (lib/telemetry/metrics.ts): each operation, also one refused
// before execution, counted with its latency, and each error by its code.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { ServiceMetrics } from '../../telemetry/metrics.js';

/** `codeOf` is the code the client is answered with (an extension may translate an error, e.g. a database outage). */
export function metricsPlugin<C extends BaseContext>(metrics: ServiceMetrics, codeOf = (error: GraphQLError) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR')): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) metrics.errors.inc({ code: metrics.errorCodes.of(codeOf(error) || 'INTERNAL_SERVER_ERROR') });
        },
        async willSendResponse({ operationName, operation, request }) {
          // A refused operation (parse or validation error) has no resolved operation: its name is the one asked for.
          const labels = { operation_name: metrics.operationNames.of(operationName ?? request.operationName), operation_type: operation?.operation ?? 'unknown' };
          metrics.requests.inc(labels);
          metrics.requestDuration.observe(labels, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
