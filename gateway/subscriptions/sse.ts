// Subscriptions over Server-Sent Events (graphql-sse, "distinct connections" mode) for clients that
// cannot hold a WebSocket: a POST to the gateway's /graphql that accepts `text/event-stream`, the
// token in the Authorization header as for any request. One request is one subscription.
import type http from 'node:http';
import type express from 'express';
import type { ExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/express';
import type { Tokens } from '../../lib/auth.js';
import type { Logger } from '../../lib/logger.js';
import { REQUEST_ID_HEADER } from '../../lib/request-id.js';
import { OPERATIONS_KEY_HEADER } from '../trusted-documents.js';
import { resultFormatter } from './format.js';
import { endsAtOnce, type FederatedSubscriptions, type PreparedOperation, type Session } from './service.js';
import { Upstream } from './upstream.js';

export interface SseTransportOptions {
  app: express.Express;
  service: FederatedSubscriptions;
  tokens: Tokens;
  logger: Logger;
  production: boolean;
}

type SseContext = { session: Session; op: PreparedOperation };

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized' };
const json = (status: number, body: unknown) =>
  [JSON.stringify(body), { status, statusText: STATUS_TEXT[status] ?? '', headers: { 'content-type': 'application/json; charset=utf-8' } }] as const;

export function serveSse({ app, service, tokens, production }: SseTransportOptions): { close(): Promise<void> } {
  const open = new Set<http.ServerResponse>();
  const format = resultFormatter(production);
  const handler = createHandler<SseContext>({
    onSubscribe: async (req, params) => {
      const raw = req.raw;
      const authorization = req.headers.get('authorization') ?? undefined;
      let viewer;
      try {
        viewer = await tokens.fromAuthorization(authorization);
      } catch (err) {
        return json(401, { errors: format.errors([err as Error & { toJSON(): never }]) });
      }
      const op = service.prepare({ ...params, viewer, operationsKey: req.headers.get(OPERATIONS_KEY_HEADER) ?? undefined });
      if (Array.isArray(op)) return json(400, { errors: format.errors(op) });
      const prepared = op as PreparedOperation;
      const log = raw.log.child({ transport: 'graphql-sse' });
      const session: Session = {
        viewer,
        authorization,
        clientAddress: raw.ip,
        requestId: raw.requestId,
        log,
        active: 0,
        upstream: new Upstream({ connectionParams: { ...(authorization ? { authorization } : {}), [REQUEST_ID_HEADER]: raw.requestId }, log }),
      };
      return { schema: service.schema!, document: prepared.document, variableValues: prepared.variables, operationName: prepared.operationName, contextValue: { session, op: prepared } };
    },
    subscribe: (args) => {
      const { session, op } = args.contextValue;
      return closingUpstream(service.run(session, op), session);
    },
    onNext: (ctx, req, result) => {
      const res = req.context.res;
      if (res.writableLength > service.bounds.maxBufferedBytes) {
        ctx.session.log.warn({ bufferedBytes: res.writableLength }, 'slow subscriber disconnected');
        res.destroy();
      }
      // graphql-sse serialises with JSON.stringify: the formatted result is what it sends.
      return format.result(result as ExecutionResult) as ExecutionResult;
    },
  });
  app.use('/graphql', (req, res, next) => {
    if (req.method !== 'POST' || !req.headers.accept?.includes('text/event-stream')) return next();
    open.add(res);
    res.once('close', () => open.delete(res));
    handler(req, res).catch(next);
  });
  return {
    close: async () => {
      // The client reconnects (to another replica) and its first event is the current state.
      for (const res of open) res.end();
    },
  };
}

/** The subscription's events; the session's subgraph connections close with it. */
function closingUpstream(result: ReturnType<FederatedSubscriptions['run']>, session: Session) {
  const dispose = () => void session.upstream.dispose();
  if (!(Symbol.asyncIterator in result)) {
    dispose();
    return result;
  }
  return endsAtOnce(result[Symbol.asyncIterator](), dispose);
}
