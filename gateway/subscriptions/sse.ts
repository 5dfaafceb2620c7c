// Subscriptions over Server-Sent Events (graphql-sse, "distinct connections" mode) for clients that
// cannot hold a WebSocket: a POST to the gateway's /graphql that accepts `text/event-stream`, the
// token in the Authorization header as for any request. One request is one subscription.
// A client that reads too slowly is disconnected rather than buffered without bound: graphql-sse's
// own express adapter waits for each write to finish before it takes the next event, which leaves
// a stalled client's events piling up, unseen, in the gateway's queues; here an event is written
// as soon as it comes, so the bytes wait in the response's buffer, where the bound sees them.
import type http from 'node:http';
import express from 'express';
import type { ExecutionResult } from 'graphql';
import { createHandler, type Request as SseRequest } from 'graphql-sse';
import type { Tokens } from '../../lib/security/auth.js';
import { BODY_LIMIT } from '../../lib/server/graphql-server.js';
import type { Logger } from '../../lib/logger.js';
import { OPERATIONS_KEY_HEADER } from '../features/trusted-documents.js';
import { resultFormatter } from './format.js';
import { type FederatedSubscriptions, type PreparedOperation, type Session } from './service.js';

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

type Raw = express.Request;

export function serveSse({ app, service, tokens, production }: SseTransportOptions): { close(): Promise<void> } {
  const open = new Set<http.ServerResponse>();
  const format = resultFormatter(production);
  const handler = createHandler<Raw, { res: express.Response }, SseContext>({
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
      };
      return { schema: service.schema!, document: prepared.document, variableValues: prepared.variables, operationName: prepared.operationName, contextValue: { session, op: prepared } };
    },
    subscribe: (args) => {
      const { session, op } = args.contextValue;
      return service.run(session, op);
    },
    // graphql-sse serialises with JSON.stringify: the formatted result is what it sends.
    onNext: (_ctx, _req, result) => format.result(result as ExecutionResult) as ExecutionResult,
  });

  const respond = async (req: Raw, res: express.Response) => {
    const request: SseRequest<Raw, { res: express.Response }> = {
      method: req.method,
      url: req.url,
      headers: { get: (key) => [req.headers[key]].flat().join('\n') || undefined },
      body: () => req.body as Record<string, unknown>, // parsed as JSON by the server's body parser
      raw: req,
      context: { res },
    };
    const [body, init] = await handler(request);
    res.writeHead(init.status, init.statusText, init.headers);
    if (!body || typeof body === 'string') return void res.end(body);
    res.once('close', () => void body.return(undefined));
    for await (const chunk of body) {
      if (!res.writable) break; // the client went away
      if (res.writableLength > service.bounds.maxBufferedBytes) {
        req.log.warn({ bufferedBytes: res.writableLength, transport: 'graphql-sse' }, 'slow subscriber disconnected');
        res.destroy(); // what it has not read is dropped; it reconnects and starts from the current state
        break;
      }
      res.write(chunk);
    }
    res.end();
  };

  const parseJson = express.json({ limit: BODY_LIMIT });
  const isSubscription = (req: Raw) => req.method === 'POST' && req.headers.accept?.includes('text/event-stream');
  app.use(
    '/graphql',
    // The same body limit as for queries; a body that is too large or not JSON gets the same error.
    (req, res, next) => (isSubscription(req) ? parseJson(req, res, next) : next()),
    (req, res, next) => {
      if (!isSubscription(req)) return next();
      open.add(res);
      res.once('close', () => open.delete(res));
      respond(req, res).catch(next);
    },
  );
  return {
    close: async () => {
      // The client reconnects (to another replica) and its first event is the current state.
      for (const res of open) res.end();
    },
  };
}
