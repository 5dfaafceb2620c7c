// Every service's GraphQL spans (lib/telemetry/tracing.ts), when tracing is on: parse and
// validation spans, the operation's name and type on the server span, internal errors marked.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { PUBLIC_CODES } from '../../errors.js';
import { childSpan, tracingEnabled } from '../../telemetry/tracing.js';

/** Undefined when tracing is off: then nothing is added to any request. */
export function tracingPlugin<C extends BaseContext>(): ApolloServerPlugin<C> | undefined {
  if (!tracingEnabled()) return undefined;
  return {
    async requestDidStart() {
      const server = trace.getActiveSpan();
      return {
        async parsingDidStart() {
          const span = childSpan('graphql.parse');
          return async (error) => {
            if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
            span.end();
          };
        },
        async validationDidStart() {
          const span = childSpan('graphql.validate');
          return async (errors) => {
            if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
            span.end();
          };
        },
        async didResolveOperation({ operationName, operation }) {
          if (!operation) return;
          server?.setAttributes({ 'graphql.operation.name': operationName ?? '', 'graphql.operation.type': operation.operation });
          server?.updateName(`${operation.operation} ${operationName ?? 'anonymous'}`);
        },
        async didEncounterErrors({ errors }) {
          const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          server?.setAttribute('graphql.error.codes', codes);
          const internal = codes.find((c) => !PUBLIC_CODES.has(c));
          if (internal) server?.setStatus({ code: SpanStatusCode.ERROR, message: internal });
        },
      };
    },
  };
}
