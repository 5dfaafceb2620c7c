// Subscriptions over WebSocket (graphql-ws, what Apollo Client and Apollo Sandbox speak) on the
// gateway's /graphql. The token travels in `connection_init` ({ authorization: 'Bearer ...' });
// a forged or expired one closes the connection with 4401, and a connection whose token expires
// while open is closed with 4401 at that moment (graphql-ws clients do not retry on it: log in
// again). A client that reads too slowly is disconnected (1013, try again later) rather than
// buffered without bound. On shutdown every connection is closed with 1012 (service restart),
// on which graphql-ws clients reconnect, to another replica.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import proxyAddress from 'proxy-addr';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Tokens } from '../../lib/security/auth.js';
import type { Logger } from '../../lib/logger.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../../lib/server/request-id.js';
import { authorizationOf, closeCodeFor } from '../../lib/subgraph/subscriptions.js';
import { OPERATIONS_KEY_HEADER } from '../features/trusted-documents.js';
import { resultFormatter } from './format.js';
import type { FederatedSubscriptions, PreparedOperation, Session } from './service.js';

export const SLOW_CONSUMER_CLOSE = { code: 1013, reason: 'slow consumer: events were not read in time; reconnect' };
export const SHUTDOWN_CLOSE = { code: 1012, reason: 'service restart' };
/** How long a closing slow consumer may take to read its close frame before its socket is cut. */
const TERMINATE_AFTER_MS = 5_000;
/**
 * How long a new connection may take to send `connection_init` (graphql-ws's default is 3 s, which a
 * busy client, or a busy gateway's timers, can miss while a thousand connect at once).
 */
export const CONNECTION_INIT_WAIT_MS = 10_000;
/** Longest timer Node accepts; a token valid longer is checked again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WebSocketTransportOptions {
  server: http.Server;
  service: FederatedSubscriptions;
  tokens: Tokens;
  logger: Logger;
  production: boolean;
  /** Which proxies' X-Forwarded-For to believe: the HTTP server's own `trust proxy` (Express compiles it). */
  trustProxy: (address: string, hop: number) => boolean;
}

type Extra = {
  session?: Session;
  expiry?: NodeJS.Timeout;
};

interface SubscriptionContext {
  session: Session;
  op: PreparedOperation;
}

export function serveWebSocket({ server, service, tokens, logger, production, trustProxy }: WebSocketTransportOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== '/graphql') {
      if (server.listenerCount('upgrade') === 1) socket.destroy(); // nobody else serves that path
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', sendWithoutWaiting(ws), req));
  };
  server.on('upgrade', onUpgrade);
  const format = resultFormatter(production);

  const closeSlowConsumer = (socket: WebSocket, log: Logger) => {
    if (socket.readyState !== socket.OPEN) return; // already closing: once is enough
    log.warn({ bufferedBytes: socket.bufferedAmount }, 'slow subscriber disconnected');
    socket.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
    setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS).unref();
  };

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
        const log = logger.child({ requestId, transport: 'graphql-ws' });
        const authorization = authorizationOf(ctx.connectionParams);
        try {
          const viewer = await tokens.fromAuthorization(authorization);
          ctx.extra.session = {
            viewer,
            authorization,
            // As `req.ip` for queries: the address the nearest trusted proxy saw, else the peer's.
            clientAddress: proxyAddress(request, trustProxy),
            requestId,
            log,
            active: 0,
          };
          if (viewer && authorization) {
            const expiresAt = (decodeJwt(authorization.replace(/^Bearer\s+/i, '')).exp ?? Infinity) * 1000;
            const closeAtExpiry = () => {
              const left = expiresAt - Date.now();
              if (left > 0) ctx.extra.expiry = setTimeout(closeAtExpiry, Math.min(left, MAX_TIMER_MS));
              else socket.close(CloseCode.Unauthorized, 'token expired: log in again');
            };
            if (Number.isFinite(expiresAt)) closeAtExpiry();
          }
          log.info({ viewer: viewer?.id, role: viewer?.role, clientAddress: ctx.extra.session.clientAddress }, 'subscription connection opened');
          return true;
        } catch (err) {
          log.info({ err }, 'subscription connection refused');
          socket.close(closeCodeFor(err), (err as Error).message);
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const session = ctx.extra.session!;
        const key = ctx.extra.request.headers[OPERATIONS_KEY_HEADER];
        const op = service.prepare({ ...payload, viewer: session.viewer, operationsKey: typeof key === 'string' ? key : undefined });
        if (Array.isArray(op)) return op;
        const prepared = op as PreparedOperation;
        const contextValue: SubscriptionContext = { session, op: prepared };
        return { schema: service.schema!, document: prepared.document, variableValues: prepared.variables, operationName: prepared.operationName, contextValue };
      },
      subscribe: (args) => {
        const { session, op } = args.contextValue as SubscriptionContext;
        return service.run(session, op);
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        const { socket } = ctx.extra;
        if (socket.bufferedAmount > service.bounds.maxBufferedBytes) closeSlowConsumer(socket, ctx.extra.session!.log);
        return format.result(result);
      },
      onError: (_ctx, _id, _payload, errors) => format.errors(errors),
      onClose: async (ctx, code, reason) => {
        clearTimeout(ctx.extra.expiry);
        const session = ctx.extra.session;
        session?.log.info({ code, reason }, 'subscription connection closed');
      },
    },
    wss,
  );

  return {
    close: async () => {
      server.off('upgrade', onUpgrade);
      for (const socket of wss.clients) socket.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * graphql-ws waits for each message to be written to the kernel before it takes a subscription's
 * next event. A client that stops reading thus stalls its subscriptions while their events pile up
 * unseen in the subgraph connection's queue, without bound, and `bufferedAmount` never grows past
 * one message for onNext to notice. Completing each send at once leaves the bytes waiting in the
 * socket's own buffer instead, where `bufferedAmount` counts them and onNext disconnects the client
 * past `maxBufferedBytes`. A failed write still surfaces: the socket errors and closes.
 */
function sendWithoutWaiting(ws: WebSocket): WebSocket {
  const send = ws.send.bind(ws) as (data: unknown, options?: object) => void;
  ws.send = ((data: unknown, options?: object | ((err?: Error) => void), cb?: (err?: Error) => void) => {
    const done = typeof options === 'function' ? options : cb;
    send(data, typeof options === 'function' ? {} : (options ?? {}));
    done?.();
  }) as WebSocket['send'];
  return ws;
}
