import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, loadSubgraphConfig } from '../lib/config.js';

describe('configuration', () => {
  it('starts with no variables at all: embedded database, local ports, demo data', () => {
    const config = loadSubgraphConfig('catalog', {});
    expect(config).toMatchObject({ port: 4002, databaseUrl: undefined, seed: true, production: false });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config.subgraphUrls.orders).toBe('http://localhost:4003/graphql');
  });

  it('uses PostgreSQL when the subgraph has a URL, and does not seed it unless asked', () => {
    const config = loadSubgraphConfig('orders', { ORDERS_DATABASE_URL: 'postgresql://db/orders' });
    expect(config).toMatchObject({ databaseUrl: 'postgresql://db/orders', dataDir: undefined, seed: false });
    expect(loadSubgraphConfig('orders', { ORDERS_DATABASE_URL: 'postgresql://db/orders', SEED: 'true' }).seed).toBe(true);
  });

  it.each([
    [{ CATALOG_PORT: 'eighty' }, /CATALOG_PORT/],
    [{ CATALOG_DATABASE_URL: 'mysql://db/x' }, /CATALOG_DATABASE_URL: must be a postgres/],
    [{ USERS_URL: 'not a url' }, /USERS_URL/],
    [{ NODE_ENV: 'production' }, /JWT_SECRET: required in production/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET: must be at least 32 characters/],
    [{ SEED: 'yes' }, /SEED/],
    [{ TRUSTED_PROXIES: 'loopback, proxy.example.com' }, /TRUSTED_PROXIES: must be comma-separated IP addresses or CIDRs/],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /TRUSTED_PROXIES/],
    [{ LOGIN_FAILURES_PER_ACCOUNT: '0' }, /LOGIN_FAILURES_PER_ACCOUNT/],
    [{ REGISTRATION_WINDOW_SECONDS: 'an hour' }, /REGISTRATION_WINDOW_SECONDS/],
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadSubgraphConfig('catalog', env)).toThrow(message);
  });

  it('throttles logins in the users database by default, in Redis when REDIS_URL is set', () => {
    expect(loadSubgraphConfig('users', {})).toMatchObject({
      loginThrottle: { failuresPerAccount: 5, failuresPerAddress: 30, failureWindowSeconds: 900, registrationsPerAddress: 20, registrationWindowSeconds: 3600 },
      redis: undefined,
    });
    const withRedis = loadSubgraphConfig('users', { REDIS_URL: 'redis://cache:6379', LOGIN_FAILURES_PER_ADDRESS: '50' });
    expect(withRedis).toMatchObject({ redis: { url: 'redis://cache:6379', keyPrefix: 'commerce:' }, loginThrottle: { failuresPerAddress: 50 } });
  });

  it('trusts X-Forwarded-For from the private networks in a subgraph, and from no one in the gateway, unless told', () => {
    expect(loadSubgraphConfig('users', {}).trustedProxies).toEqual(['loopback', 'uniquelocal']);
    expect(loadGatewayConfig({}).trustedProxies).toEqual([]);
    expect(loadGatewayConfig({ TRUSTED_PROXIES: 'loopback, 10.0.0.0/8,fd00::/8' }).trustedProxies).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    expect(loadSubgraphConfig('users', { TRUSTED_PROXIES: 'none' }).trustedProxies).toEqual([]);
  });

  it('reads the gateway settings', () => {
    expect(loadGatewayConfig({ SUPERGRAPH: 'introspect', GATEWAY_PORT: '8080' })).toMatchObject({ introspect: true, port: 8080 });
    expect(() => loadGatewayConfig({ SUPERGRAPH: 'guess' })).toThrow(/SUPERGRAPH/);
  });
});
