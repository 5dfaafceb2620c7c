// The HTTP layer every service shares: request ids, health and readiness routes, a body limit,
// keep-alive settings the gateway can live with, and a graceful stop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer, BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import express, { type Request } from 'express';
import type { Logger } from './logger.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';

/** Larger bodies are refused with 413 before any parsing. */
export const BODY_LIMIT = '1mb';

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, finishes in-flight requests, then releases resources. */
  close(): Promise<void>;
}

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
  }
}

export function createApp(logger: Logger, ready: () => Promise<void>) {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    req.requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    req.log = logger.child({ requestId: req.requestId });
    res.setHeader(REQUEST_ID_HEADER, req.requestId);
    next();
  });
  // Liveness: the process answers. Readiness: it can also reach what it depends on.
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (req, res) => {
    try {
      await ready();
      res.json({ status: 'ready' });
    } catch (err) {
      req.log.warn({ err }, 'not ready');
      res.status(503).json({ status: 'unavailable' });
    }
  });
  return app;
}

export const jsonBody = () => express.json({ limit: BODY_LIMIT });

export function createHttpServer(app: express.Express) {
  const server = http.createServer(app);
  // Longer than the gateway's idle-socket timeout, so the gateway never reuses a socket the
  // subgraph has just closed (ECONNRESET, apollographql/federation#2313).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

export const drainPlugin = (server: http.Server) => ApolloServerPluginDrainHttpServer({ httpServer: server });

export async function listen(
  server: http.Server,
  apollo: ApolloServer<BaseContext> | ApolloServer<never>,
  port: number,
  onClose: () => Promise<void>,
): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: actual,
    url: `http://localhost:${actual}/graphql`,
    // Idempotent: a signal handler and a test teardown may both ask.
    close: () =>
      (closing ??= (async () => {
        await apollo.stop();
        await onClose();
      })()),
  };
}

export type { Request };
