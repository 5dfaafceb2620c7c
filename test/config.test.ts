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
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadSubgraphConfig('catalog', env)).toThrow(message);
  });

  it('routes the gateway by its supergraph: a *_URL variable overrides one subgraph only when set', () => {
    expect(loadGatewayConfig({}).subgraphUrls).toEqual({});
    expect(loadGatewayConfig({ REVIEWS_URL: 'http://reviews.internal:8080/graphql' }).subgraphUrls).toEqual({
      reviews: 'http://reviews.internal:8080/graphql',
    });
    expect(() => loadGatewayConfig({ USERS_URL: 'not a url' })).toThrow(/USERS_URL/);
    // The subgraphs call catalog themselves, so they keep a local default.
    expect(loadSubgraphConfig('orders', {}).subgraphUrls.catalog).toBe('http://localhost:4002/graphql');
  });

  it('reads the gateway settings', () => {
    expect(loadGatewayConfig({ SUPERGRAPH: 'introspect', GATEWAY_PORT: '8080' })).toMatchObject({ introspect: true, port: 8080 });
    expect(() => loadGatewayConfig({ SUPERGRAPH: 'guess' })).toThrow(/SUPERGRAPH/);
  });
});
