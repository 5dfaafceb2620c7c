// The operation limits that depend on the variables (cost, root fields, password checks), checked
// after validation and before execution, so the gateway refuses before it plans
// (lib/security/operation-limits.ts has the limits and the validation rules).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { operationRefused } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { estimateOperation, exceededLimit, type OperationLimits } from '../../security/operation-limits.js';

export function limitsPlugin<C extends BaseContext & { log: Logger }>(limits: OperationLimits): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const figures = estimateOperation(schema, document, operation, request.variables);
          contextValue.log.debug(figures, 'operation figures');
          const refusal = exceededLimit(figures, limits);
          if (refusal) throw operationRefused(refusal);
        },
      };
    },
  };
}
