// Federated subscriptions at the gateway, on the same port and path as queries: graphql-ws over
// WebSocket (ws.ts) and graphql-sse over HTTP (sse.ts), both served by one FederatedSubscriptions
// (service.ts) that plans with the gateway's supergraph (plan.ts) and subscribes at the owning
// subgraph (upstream.ts). Open subscriptions survive a new supergraph (service.ts reloaded()). A
// gateway feature: useSubscriptions.
import type { Tokens } from '../../lib/security/auth.js';
import type { Logger } from '../../lib/logger.js';
import type { OperationLimits } from '../../lib/security/operation-limits.js';
import { DEFAULT_SUBSCRIPTION_BOUNDS, type SubscriptionBounds } from '../../lib/config.js';
import type { GatewayFeature } from '../feature.js';
import { SubscriptionPlanner } from './plan.js';
import { FederatedSubscriptions, type AdmitOperation, type AuthorizeOperation } from './service.js';
import { serveSse } from './sse.js';
import { serveWebSocket } from './ws.js';

export interface SubscriptionOptions {
  tokens: Tokens;
  limits: OperationLimits;
  bounds?: SubscriptionBounds | undefined;
  /** The trusted-documents policy (useTrustedDocuments' `check`), applied to subscriptions as to queries. */
  admit?: AdmitOperation;
  /** The access rules (useAuthorization's `authorize`), applied to subscriptions as to queries. */
  authorize?: AuthorizeOperation;
  logger: Logger;
  production: boolean;
}

export function useSubscriptions(options: SubscriptionOptions): GatewayFeature {
  const planner = new SubscriptionPlanner();
  const service = new FederatedSubscriptions(planner, options.limits, options.bounds ?? DEFAULT_SUBSCRIPTION_BOUNDS, options.admit, options.authorize);
  return {
    // Every supergraph the gateway loads (the file at start, each reload or new composition) is
    // planned with, calling the subgraphs through the same client as queries; open subscriptions
    // are planned again and go on (or end with one error if the new schema no longer serves them).
    onSupergraph: ({ coreSupergraphSdl, apiSchema, subgraphs }) => {
      planner.update(coreSupergraphSdl, apiSchema, subgraphs);
      service.reloaded();
    },
    // Listening means the supergraph is loaded and the subscription planner ready.
    ready: async () => {
      if (!service.ready) throw new Error('the subscription planner has no supergraph yet');
    },
    /** Mounts both transports on the gateway's server. */
    attach(server, app) {
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
