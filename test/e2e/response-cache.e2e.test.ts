// The gateway's response cache (gateway/features/response-cache.ts): a public read is answered again from
// the cache, a mutation through the graph invalidates it (on every replica when the cache is in
// Redis), and nothing about the viewer is kept.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/server.js';
import type { ResponseCacheConfig } from '../../lib/config.js';
import type { RunningServer } from '../../lib/server/graphql-server.js';
import { missing, skipped } from '../support/available.js';
import { gatewayConfig, graphql, startStack, TEST_REDIS_URL, userToken, type Stack } from '../support/harness.js';
import { bearer, byHash, persisted, send } from '../support/persisted-requests.js';



type StoreName = 'memory' | 'Redis';
// The Redis case is counted as skipped, with the reason, where Redis is not reachable.
const stores: [StoreName, string | undefined][] = [
  ['memory', undefined],
  ['Redis', await missing('Redis')],
];

for (const [store, skip] of stores) describe.skipIf(skip !== undefined)(skipped(`the response cache in ${store}`, skip), () => {
  let stack: Stack;
  /** Two replicas: with Redis they share the cache; in memory each has its own. */
  let replicas: RunningServer[];
  let productId: string;
  let admin: string;
  const keyPrefix = `test:${randomBytes(4).toString('hex')}:`;
  const read = (gateway: RunningServer, headers: Record<string, string> = {}) =>
    send(gateway.url, { operationName: 'ProductDetail', variables: { id: productId }, extensions: byHash(persisted('ProductDetail').id) }, { method: 'GET', headers: { 'content-type': 'application/json', ...headers } });
  const renameInDatabase = (name: string) => stack.catalog.db.client.product.update({ where: { id: productId }, data: { name } });

  beforeAll(async () => {
    stack = await startStack('pglite');
    const responseCache: ResponseCacheConfig = { enabled: true, redis: store === 'Redis' ? { url: TEST_REDIS_URL, keyPrefix } : undefined };
    replicas = await Promise.all([0, 1].map(() => startGateway(gatewayConfig(stack.urls, { responseCache }))));
    productId = (await stack.request('{ products(first: 1) { edges { node { id } } } }')).data!.products.edges[0].node.id;
    admin = await userToken({ id: 'admin-1', role: 'ADMIN' });
  });
  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await stack?.stop();
    if (store === 'Redis') {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('answers a public read again from the cache, without asking the subgraphs', async () => {
    const first = await read(replicas[0]!);
    expect(first.errors).toBeUndefined();
    expect(first.headers.get('age')).toBeNull();
    // Changed behind the graph's back: the cached answer still has the old name.
    await renameInDatabase('Renamed behind the cache');
    const second = await read(replicas[0]!);
    expect(second.headers.get('age')).not.toBeNull();
    expect(second.headers.get('cache-control')).toBe('max-age=30, public');
    expect(second.data).toEqual(first.data);
  });

  it('is invalidated by a mutation through the graph', async () => {
    await renameInDatabase('Renamed before a mutation');
    const mutation = await graphql(replicas[0]!.url, persisted('AdjustStock').body, { productId, delta: 1 }, admin);
    expect(mutation.errors).toBeUndefined();
    const fresh = await read(replicas[0]!);
    expect(fresh.headers.get('age')).toBeNull();
    expect(fresh.data?.product.name).toBe('Renamed before a mutation');
    expect(fresh.data?.product.stock).toBe(mutation.data?.adjustStock.stock);
  });

  it.skipIf(store !== 'Redis')(skipped('is shared by the replicas, and a mutation through one invalidates it for all', store === 'Redis' ? undefined : 'a cache in memory is one replica\'s own'), async () => {
    await renameInDatabase('Shared');
    await graphql(replicas[0]!.url, persisted('AdjustStock').body, { productId, delta: 1 }, admin);
    expect((await read(replicas[0]!)).data?.product.name).toBe('Shared');
    const fromOther = await read(replicas[1]!);
    expect(fromOther.headers.get('age')).not.toBeNull();
    expect(fromOther.data?.product.name).toBe('Shared');
    await renameInDatabase('Changed through the other replica');
    await graphql(replicas[1]!.url, persisted('AdjustStock').body, { productId, delta: -1 }, admin);
    expect((await read(replicas[0]!)).data?.product.name).toBe('Changed through the other replica');
  });

  it('keeps nothing about the viewer', async () => {
    const token = await stack.login('alice@example.com', 'demo-alice-1');
    const me = () => send(replicas[0]!.url, { query: persisted('Me').body }, { headers: bearer(token) });
    expect((await me()).data?.me.email).toBe('alice@example.com');
    const again = await me();
    expect(again.headers.get('age')).toBeNull();
    expect(again.headers.get('cache-control')).toBe('no-store');
  });
});
