// The gateway's response cache for public reads (@apollo/server-plugin-response-cache): a query
// whose answer the subgraphs' cache hints make public is kept for its max-age and answered again
// without calling a subgraph. In memory by default (Apollo Server's LRU cache, per replica); in
// Redis with REDIS_URL, shared by the replicas.
//
// A change through the graph invalidates it: every mutation moves the cache to a new generation
// (part of every key), so no answer read before the change is served after it. With Redis the
// generation is shared, so a change through one replica reaches all of them; in memory, another
// replica serves its copy until the max-age ends, as a CDN would. Changes made outside the graph
// (a recovery job returning stock) show once the max-age ends.
//
// A deferred query (@defer, gateway/features/defer.ts) never reaches it: it is answered in parts
// while the subgraphs answer, by a route before Apollo Server, with `no-store`; the cache keeps
// whole responses only.
import ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { Redis } from 'ioredis';
import type { ResponseCacheConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';

type KeyValueCache = NonNullable<NonNullable<Parameters<typeof ApolloServerPluginResponseCache>[0]>['cache']>;

/** Where the cache keeps its answers and its generation. */
interface Store {
  /** Undefined: Apollo Server's own in-memory cache. */
  cache: KeyValueCache | undefined;
  /** The current generation; undefined when it cannot be known (then the cache is not used). */
  generation(): Promise<string | undefined>;
  invalidate(): Promise<void>;
  close(): Promise<void>;
}

function memoryStore(): Store {
  let generation = 0;
  return {
    cache: undefined,
    generation: async () => String(generation),
    invalidate: async () => void generation++,
    close: async () => {},
  };
}

function redisStore(url: string, prefix: string, logger: Logger): Store {
  // One retry: with Redis away, requests go to the subgraphs instead of waiting for it.
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let reachable = true;
  redis.on('ready', () => (reachable = true));
  redis.on('error', (err) => {
    if (reachable) logger.error({ err }, 'the response cache cannot reach Redis; answering without it');
    reachable = false;
  });
  const generationKey = `${prefix}response-cache:generation`;
  const keyOf = (key: string) => `${prefix}response-cache:${key}`;
  // A cache that fails is a cache that misses: Redis away costs speed, not answers.
  const cache: KeyValueCache = {
    get: async (key) => (await redis.get(keyOf(key)).catch(() => null)) ?? undefined,
    set: async (key, value, options) => {
      const ttl = options?.ttl;
      await (ttl ? redis.set(keyOf(key), value, 'EX', Math.max(1, Math.ceil(ttl))) : redis.set(keyOf(key), value)).catch(() => undefined);
    },
    delete: async (key) => {
      await redis.del(keyOf(key)).catch(() => undefined);
    },
  };
  return {
    cache,
    generation: async () => (await redis.get(generationKey).then((g) => g ?? '0').catch(() => undefined)),
    invalidate: async () => {
      await redis.incr(generationKey).catch((err: unknown) => logger.warn({ err }, 'the response cache could not be invalidated'));
    },
    close: async () => redis.disconnect(),
  };
}

type C = GatewayContext;

/** Every mutation moves the cache to a new generation. */
function invalidationPlugin(store: Store): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation }) {
          if (operation?.operation === 'mutation') await store.invalidate();
        },
      };
    },
  };
}

/** RESPONSE_CACHE: off, the feature brings nothing. Its plugins: the invalidation, then Apollo's cache. */
export function useResponseCache(config: ResponseCacheConfig, logger: Logger): GatewayFeature {
  if (!config.enabled) return {};
  const store = config.redis ? redisStore(config.redis.url, config.redis.keyPrefix, logger) : memoryStore();
  // The generation each request read its answer under; none when the store could not tell.
  const generations = new WeakMap<object, string | undefined>();
  const generationOf = (ctx: GraphQLRequestContext<C>) => generations.get(ctx.request);
  const cache = ApolloServerPluginResponseCache({
    ...(store.cache ? { cache: store.cache } : {}),
    // Only public answers are kept (nothing private is worth a shared cache).
    sessionId: async () => null,
    extraCacheKeyData: async (ctx) => {
      const generation = await store.generation();
      generations.set(ctx.request, generation);
      return { generation };
    },
    shouldReadFromCache: async (ctx) => generationOf(ctx) !== undefined,
    shouldWriteToCache: async (ctx) => generationOf(ctx) !== undefined,
  }) as ApolloServerPlugin<C>;
  return { plugins: [invalidationPlugin(store), cache], close: store.close };
}
