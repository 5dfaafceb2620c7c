// Every service's operation log: debug lines when an operation starts and ends, and every error,
// client errors at debug and internal ones at error, each with the request id (the request's logger).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLError } from 'graphql';
import { PUBLIC_CODES } from '../../errors.js';
import type { Logger } from '../../logger.js';

/**
 * Logs through the request's logger, or `fallback` for a request that has none. `codeOf` is the
 * code the client is answered with (an extension may translate an error: a database outage is
 * SERVICE_UNAVAILABLE, logged as a warning, not as an internal error).
 */
export function loggingPlugin<C extends BaseContext & { log?: Logger }>(fallback: Logger, codeOf = (error: GraphQLError) => String(error.extensions?.code ?? '')): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      (contextValue.log ?? fallback).debug('operation started');
      return {
        async willSendResponse({ contextValue, operationName, errors }) {
          const log = contextValue.log ?? fallback;
          log.debug({ operationName, durationMs: Math.round(performance.now() - started), errors: errors?.length ?? 0 }, 'operation');
        },
        async didEncounterErrors({ errors, contextValue }) {
          const log = contextValue.log ?? fallback;
          for (const error of errors) {
            const code = codeOf(error);
            if (code !== String(error.extensions?.code ?? '') && PUBLIC_CODES.has(code)) log.warn({ code, err: unwrapResolverError(error), path: error.path }, 'answered as unavailable');
            else if (PUBLIC_CODES.has(code)) log.debug({ code, message: error.message }, 'client error');
            else log.error({ err: unwrapResolverError(error), path: error.path }, 'internal error');
          }
        },
      };
    },
  };
}
