// Apollo Server settings shared by the subgraphs and the gateway: error masking in production,
// error logging with the request id, and the landing page.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { PUBLIC_CODES } from '../errors.js';
import type { Logger } from '../logger.js';

const isPublic = (e: GraphQLFormattedError) => PUBLIC_CODES.has(String(e.extensions?.code ?? ''));

/**
 * Internal errors reach clients as a bare "Internal server error" in production; the log keeps the
 * detail. Errors meant for clients never carry a stack trace (it shows the server's files, not the
 * client's mistake), nor the HTTP details of a subgraph call (its URL), in any mode.
 */
export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    if (isPublic(formatted)) {
      const { stacktrace: _stack, response: _subgraphResponse, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (!production) {
      const { response: _subgraphResponse, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** Debug lines when an operation starts and ends, and every error: client errors at debug, internal ones at error. */
export function loggingPlugin<C extends BaseContext & { log?: Logger }>(fallback: Logger): ApolloServerPlugin<C> {
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
            const code = String(error.extensions?.code ?? '');
            if (PUBLIC_CODES.has(code)) log.debug({ code, message: error.message }, 'client error');
            else log.error({ err: unwrapResolverError(error), path: error.path }, 'internal error');
          }
        },
      };
    },
  };
}

/** Apollo Sandbox in development; in production only a static page (no schema exploration). */
export const landingPage = (production: boolean) =>
  production
    ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
    : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false });
