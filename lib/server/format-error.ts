// How every service's errors reach clients (Apollo Server's formatError, and the gateway's
// subscription transports): error masking in production, never a stack trace or a subgraph's URL.
import type { GraphQLFormattedError } from 'graphql';
import { PUBLIC_CODES } from '../errors.js';

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
