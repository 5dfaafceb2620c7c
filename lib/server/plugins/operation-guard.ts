// Refuses, as the client's mistake (HTTP 400), a request whose operation cannot be run: an unknown
// operationName, several operations and no name, or a subscription in a plain POST (subscriptions
// are served over WebSocket and Server-Sent Events, gateway/subscriptions/).
// Apollo Server already answers so for a schema; a gateway would otherwise answer HTTP 500, so
// every service runs this check before executing.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { GraphQLError, Kind, type DocumentNode } from 'graphql';

const refuse = (code: string, message: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/** The message graphql-js gives when it cannot pick the operation to run. */
function unresolvable(document: DocumentNode | undefined, operationName: string | undefined): GraphQLError {
  const operations = document?.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length ?? 0;
  const message = operationName
    ? `Unknown operation named "${operationName}".`
    : operations > 1
      ? 'Must provide operation name if query contains multiple operations.'
      : 'Must provide an operation.';
  return refuse(ApolloServerErrorCode.OPERATION_RESOLUTION_FAILURE, message);
}

export function operationGuardPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) throw unresolvable(document, request.operationName);
          if (operation.operation === 'subscription') {
            throw refuse(ApolloServerErrorCode.BAD_REQUEST, 'a subscription needs a streaming transport: subscribe over WebSocket (graphql-ws) or Server-Sent Events (graphql-sse, Accept: text/event-stream) at this URL');
          }
        },
      };
    },
  };
}
