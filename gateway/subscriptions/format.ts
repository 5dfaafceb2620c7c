// Errors on the subscription transports read as they do over HTTP: the shared formatter (masking
// internal errors in production) and the token limit reported like the other limits.
import type { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { formatError } from '../../lib/server/format-error.js';
import { reportTokenLimit } from '../../lib/security/operation-limits.js';

export function resultFormatter(production: boolean) {
  const format = formatError(production);
  const formatOne = (e: GraphQLError | GraphQLFormattedError): GraphQLFormattedError => {
    const formatted = 'toJSON' in e ? e.toJSON() : e;
    // The HTTP status only means something to the HTTP transport.
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    return format(reportTokenLimit({ ...formatted, extensions }));
  };
  return {
    errors: (errors: readonly (GraphQLError | GraphQLFormattedError)[]) => errors.map(formatOne),
    result: (result: ExecutionResult): FormattedExecutionResult => ({
      ...(result.errors ? { errors: result.errors.map(formatOne) } : {}),
      ...('data' in result ? { data: result.data } : {}),
      ...(result.extensions ? { extensions: result.extensions } : {}),
    }),
  };
}
