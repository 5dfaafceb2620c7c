// Federated subscriptions at the gateway, on the same port and path as queries: graphql-ws over
// WebSocket (ws.ts) and graphql-sse over HTTP (sse.ts), both served by one FederatedSubscriptions
// (service.ts) that plans with the gateway's supergraph (plan.ts) and subscribes at the owning
// subgraph (upstream.ts).
import type http from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import type express from 'express';
import type { Tokens } from '../../lib/security/auth.js';
import type { Logger } from '../../lib/logger.js';
import type { OperationLimits } from '../../lib/security/operation-limits.js';
import { SubscriptionPlanner, type BuildService, type Route } from './plan.js';
import { DEFAULT_SUBSCRIPTION_BOUNDS, type SubscriptionBounds } from '../../lib/config.js';
import { FederatedSubscriptions, type AdmitOperation } from './service.js';
import { serveSse } from './sse.js';
import { serveWebSocket } from './ws.js';

export interface GatewaySubscriptionOptions {
  gateway: ApolloGateway;
  buildService: BuildService;
  route: Route;
  tokens: Tokens;
  limits: OperationLimits;
  bounds?: SubscriptionBounds | undefined;
  /** The trusted-documents policy, applied to subscriptions as to queries. */
  admit?: AdmitOperation;
  logger: Logger;
  production: boolean;
}

export function gatewaySubscriptions(options: GatewaySubscriptionOptions) {
  const planner = new SubscriptionPlanner(options.buildService, options.route);
  // Every supergraph the gateway loads (the file at start, each new composition) is planned with.
  options.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl, apiSchema }) => planner.update(coreSupergraphSdl, apiSchema));
  const service = new FederatedSubscriptions(planner, options.limits, options.bounds ?? DEFAULT_SUBSCRIPTION_BOUNDS, options.admit);
  return {
    get ready() {
      return service.ready;
    },
    /** Mounts both transports on the gateway's server (GraphQLServerOptions.attach). */
    attach(server: http.Server, app: express.Express) {
      const common = { service, tokens: options.tokens, logger: options.logger, production: options.production };
      const ws = serveWebSocket({ ...common, server, trustProxy: app.get('trust proxy fn') as (address: string, hop: number) => boolean });
      const sse = serveSse({ ...common, app });
      return {
        close: async () => {
          await Promise.all([ws.close(), sse.close()]);
        },
      };
    },
  };
}
