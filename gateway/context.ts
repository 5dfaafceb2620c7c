// The gateway's request context: who is calling, as the subgraph calls made for the request
// forward it (gateway/subgraph-client/data-source.ts). Its own module so that the features and the
// subscription path can use it without importing the gateway's wiring (gateway/server.ts).
import type { Logger } from '../lib/logger.js';
import type { Viewer } from '../lib/security/auth.js';

export interface GatewayContext {
  /** The caller as its token says (verified), or null without one: what the access rules are evaluated for. */
  viewer: Viewer | null;
  authorization: string | undefined;
  /** The client's address as this gateway determined it (trusting only the configured proxies). */
  clientAddress: string | undefined;
  requestId: string;
  log: Logger;
}
