// A cost budget per client over time, as a gateway feature (useCostBudget): each operation's
// estimated cost (the schema's @cost and @listSize, after the access rules took fields out) is
// spent from its client's budget for the window; past it the operation is refused before it is
// planned, with TOO_MANY_REQUESTS, `retryAfterSeconds` and HTTP 429 with Retry-After. The client is
// the viewer (by user id), else the client's address; with `key: 'client-name'` an operation sent
// by persisted id counts against its client name (apollographql-client-name) instead.
// Administrators and the service token have budgets of their own. Counted in Redis when REDIS_URL
// is set (every replica shares one budget), else in this gateway's memory (rate-limiter-flexible).
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CostBudgetConfig } from '../../lib/config.js';
import { serviceUnavailable, tooManyRequests } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Role, Viewer } from '../../lib/security/auth.js';
import type { OperationLimits } from '../../lib/security/operation-limits.js';
import { refusedByLimits, requestFigures } from '../../lib/security/request-figures.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';
import { CLIENT_NAME_HEADER } from './usage.js';

export interface CostBudgetOptions extends CostBudgetConfig {
  limits: OperationLimits;
  logger: Logger;
}

type Budget = 'viewer' | 'admin' | 'service';

/** One operation's spending: its estimated cost, and who sent it. */
export interface Spending {
  cost: number;
  viewer: Viewer | null;
  clientAddress: string | undefined;
  /** Sent by persisted id (counted by client name under `key: 'client-name'`). */
  persisted: boolean;
  clientName: string | undefined;
}

export interface CostBudgetFeature extends GatewayFeature {
  spend(spending: Spending): Promise<void>;
}

/** Apollo Server reads an error's `extensions.http.headers` as a HeaderMap (graphql-yoga's typing, also installed, says a record). */
const retryAfter = (seconds: number) => new HeaderMap([['retry-after', String(seconds)]]) as unknown as Record<string, string>;
const BUDGET_OF_ROLE: Record<Role, Budget> = { CUSTOMER: 'viewer', ADMIN: 'admin', SERVICE: 'service' };

export function useCostBudget(options: CostBudgetOptions): CostBudgetFeature {
  const { windowSeconds: duration, logger } = options;
  const redis = options.redis ? new Redis(options.redis.url, { maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'cost budget cannot reach Redis'));
  const limiter = (budget: Budget, points: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.redis!.keyPrefix}cost-budget:${budget}`, points, duration })
      : new RateLimiterMemory({ keyPrefix: `cost-budget:${budget}`, points, duration });
  const limiters: Record<Budget, RateLimiterAbstract> = {
    viewer: limiter('viewer', options.points),
    admin: limiter('admin', options.adminPoints),
    service: limiter('service', options.servicePoints),
  };

  /**
   * Spends an operation's estimated cost from its client's budget; throws the refusal (HTTP 429)
   * when the budget is spent. Also used by deferred queries (gateway/features/defer.ts).
   */
  async function spend({ cost, viewer, clientAddress, persisted, clientName }: Spending): Promise<void> {
    const key =
      options.key === 'client-name' && persisted && clientName ? `client:${clientName}` : viewer ? `user:${viewer.id}` : `address:${clientAddress ?? 'unknown'}`;
    const budget = viewer ? BUDGET_OF_ROLE[viewer.role] : 'viewer';
    try {
      await limiters[budget].consume(key, Math.max(1, cost));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        logger.error({ err }, 'cost budget unavailable');
        throw serviceUnavailable('the cost budget cannot be checked now; try again shortly');
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      const { message, extensions } = tooManyRequests(`cost budget of ${limiters[budget].points} per ${duration} s spent: this operation costs ${cost}`, retryAfterSeconds);
      throw new GraphQLError(message, { extensions: { ...extensions, http: { status: 429, headers: retryAfter(retryAfterSeconds) } } });
    }
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { request, contextValue } = requestContext;
          if (!requestContext.operation) return;
          if (refusedByLimits(requestContext, options.limits)) return; // spends nothing
          await spend({
            // The request's estimate, of the operation as planned (after the access rules).
            cost: requestFigures(requestContext).cost,
            viewer: contextValue.viewer,
            clientAddress: contextValue.clientAddress,
            persisted: request.extensions?.persistedQuery !== undefined,
            clientName: request.http?.headers.get(CLIENT_NAME_HEADER),
          });
        },
      };
    },
  };
  return {
    plugins: [plugin],
    spend,
    close: async () => {
      redis?.disconnect();
    },
  };
}
