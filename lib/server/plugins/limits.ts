// The operation limits that depend on the variables (cost, root fields, password checks), checked
// after validation and before execution, so the gateway refuses before it plans
// (lib/security/operation-limits.ts has the limits and the validation rules). The estimate is the
// request's one (lib/security/request-figures.ts), which the gateway's cost features read again.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { operationRefused } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { exceededLimit, type OperationLimits } from '../../security/operation-limits.js';
import { requestFigures } from '../../security/request-figures.js';

export function limitsPlugin<C extends BaseContext & { log: Logger }>(limits: OperationLimits): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          if (!requestContext.operation) return;
          const figures = requestFigures(requestContext);
          requestContext.contextValue.log.debug(figures, 'operation figures');
          const refusal = exceededLimit(figures, limits);
          if (refusal) throw operationRefused(refusal);
        },
      };
    },
  };
}
